import { describe, expect, it } from 'vitest'
import { ipBytes } from './ip-bytes.js'

describe('ipBytes', () => {
  it('encodes IPv4, IPv4-mapped IPv6 and IPv6 addresses', () => {
    expect([...ipBytes('127.0.0.1')!]).toEqual([127, 0, 0, 1])
    expect([...ipBytes('::ffff:10.1.2.3')!]).toEqual([10, 1, 2, 3])
    expect([...ipBytes('::1')!]).toEqual([...new Array(15).fill(0), 1])
    expect([...ipBytes('2001:db8::ff00:42:8329')!]).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00, 0x42, 0x83, 0x29,
    ])
    expect(ipBytes('not an address')).toBeUndefined()
    expect(ipBytes(undefined)).toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import { crc32c, createExternalIpVoter, isBep42Exempt, isSecureNodeId, secureNodeId } from './bep42.js'

// BEP 42's test vectors: IP, the random byte r, and an example node id whose first 21 bits are fixed.
const VECTORS: [string, number, string][] = [
  ['124.31.75.21', 1, '5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401'],
  ['21.75.31.124', 86, '5a3ce9c14e7a08645677bbd1cfe7d8f956d53256'],
  ['65.23.51.170', 22, 'a5d43220bc8f112a3d426c84764f8c2a1150e616'],
  ['84.124.73.14', 65, '1b0321dd1bb1fe518101ceef99462b947a01ff41'],
  ['43.213.53.83', 90, 'e56f6cbf5b7c4be0237986d5243b87aa6d51305a'],
]

describe('BEP 42 node ids', () => {
  it('computes CRC32-C', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
  })

  it.each(VECTORS)('%s with r=%d gives the BEP’s 21-bit prefix', (ip, rand, example) => {
    const expected = Buffer.from(example, 'hex')
    const id = secureNodeId(ip, rand)
    expect(id[0]).toBe(expected[0])
    expect(id[1]).toBe(expected[1])
    expect(id[2]! & 0xf8).toBe(expected[2]! & 0xf8)
    expect(id[19]).toBe(rand)
    expect(isSecureNodeId(new Uint8Array(expected), ip)).toBe(true)
    expect(isSecureNodeId(id, ip)).toBe(true)
  })

  it('rejects an id made for another IP', () => {
    const [ip, , example] = VECTORS[0]!
    expect(isSecureNodeId(new Uint8Array(Buffer.from(example, 'hex')), '124.31.75.22')).toBe(false)
    expect(isSecureNodeId(secureNodeId('21.75.31.124', 3), ip)).toBe(false)
  })

  it('exempts loopback and private ranges, not public ones', () => {
    for (const ip of [
      '127.0.0.5',
      '10.1.2.3',
      '192.168.1.1',
      '172.16.0.1',
      '169.254.1.1',
      '::1',
      'fd00::1',
      'fe80::1',
    ]) {
      expect(isBep42Exempt(ip)).toBe(true)
      expect(isSecureNodeId(new Uint8Array(20), ip)).toBe(true)
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '2001:db8::1']) expect(isBep42Exempt(ip)).toBe(false)
  })

  it('makes valid IPv6 ids', () => {
    expect(isSecureNodeId(secureNodeId('2001:db8::1'), '2001:db8::1')).toBe(true)
  })

  it('decides our external IP once three distinct nodes agree', () => {
    const voter = createExternalIpVoter()
    expect(voter.vote('8.8.8.8', '1.1.1.1')).toBeUndefined()
    expect(voter.vote('8.8.8.8', '1.1.1.1')).toBeUndefined()
    expect(voter.vote('9.9.9.9', '1.1.1.2')).toBeUndefined()
    expect(voter.vote('8.8.8.8', '1.1.1.3')).toBeUndefined()
    expect(voter.vote('8.8.8.8', '1.1.1.4')).toBe('8.8.8.8')
  })
})

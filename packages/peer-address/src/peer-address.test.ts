import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeCompactPeers,
  encodeCompactPeers,
  formatPeerAddress,
  PeerAddressError,
  parsePeerAddress,
} from './index.js'

describe('compact peers', () => {
  it('decodes BEP 23 IPv4 entries', () => {
    const bytes = Uint8Array.from([127, 0, 0, 1, 0x1a, 0xe1, 10, 1, 2, 3, 0, 80])
    expect(decodeCompactPeers(bytes, 4)).toEqual([
      { host: '127.0.0.1', port: 6881 },
      { host: '10.1.2.3', port: 80 },
    ])
  })

  it('decodes BEP 7 IPv6 entries in canonical text', () => {
    const bytes = new Uint8Array(18)
    bytes[15] = 1
    bytes[16] = 0x1a
    bytes[17] = 0xe1
    expect(decodeCompactPeers(bytes, 6)).toEqual([{ host: '::1', port: 6881 }])
  })

  it('keeps an IPv4-mapped BEP 7 entry IPv6, in RFC 5952 mixed notation', () => {
    const bytes = Uint8Array.from([...new Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1, 0x1a, 0xe1])
    const peers = decodeCompactPeers(bytes, 6)
    expect(peers).toEqual([{ host: '::ffff:10.0.0.1', port: 6881 }])
    expect(encodeCompactPeers(peers, 6)).toEqual(bytes)
    expect(encodeCompactPeers(peers, 4)).toEqual(new Uint8Array(0))
  })

  it('rejects a partial entry when strict and drops it otherwise', () => {
    const bytes = Uint8Array.from([127, 0, 0, 1, 0x1a, 0xe1, 1, 2])
    expect(() => decodeCompactPeers(bytes, 4)).toThrow(PeerAddressError)
    expect(decodeCompactPeers(bytes, 4, { strict: false })).toHaveLength(1)
  })

  it('drops port 0', () => {
    expect(decodeCompactPeers(Uint8Array.from([1, 2, 3, 4, 0, 0]), 4)).toEqual([])
  })

  it('round-trips arbitrary IPv4 and IPv6 peers', () => {
    for (const family of [4, 6] as const) {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 20 }), (seed) => {
          const size = family === 4 ? 6 : 18
          const bytes = new Uint8Array(size * seed.length)
          seed.forEach((value, i) => {
            bytes.fill(value, i * size, (i + 1) * size)
            bytes[(i + 1) * size - 1] = 1 // non-zero port
          })
          const peers = decodeCompactPeers(bytes, family)
          expect(encodeCompactPeers(peers, family)).toEqual(bytes)
        }),
      )
    }
  })
})

describe('peer address text', () => {
  it('formats and parses both families', () => {
    expect(formatPeerAddress({ host: '127.0.0.1', port: 1 })).toBe('127.0.0.1:1')
    expect(formatPeerAddress({ host: '::1', port: 2 })).toBe('[::1]:2')
    expect(parsePeerAddress('[0:0::1]:6881')).toEqual({ host: '::1', port: 6881 })
    expect(parsePeerAddress('127.0.0.1:6881')).toEqual({ host: '127.0.0.1', port: 6881 })
  })

  it.each(['localhost:1', '1.2.3.4', '1.2.3.4:0', '1.2.3.4:70000', '[::1]'])('rejects %s', (text) => {
    expect(() => parsePeerAddress(text)).toThrow(PeerAddressError)
  })
})

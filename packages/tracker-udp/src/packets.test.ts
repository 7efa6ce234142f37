import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AnnounceFields,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  type ParsedResponse,
  parseResponse,
} from './packets.js'

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

function datagram(...words: Array<number | Uint8Array>): Uint8Array {
  const parts = words.map((word) => {
    if (word instanceof Uint8Array) return word
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setUint32(0, word)
    return bytes
  })
  return Uint8Array.from(parts.flatMap((part) => [...part]))
}

const fields: AnnounceFields = {
  infoHash: new Uint8Array(20).fill(0xaa),
  peerId: new Uint8Array(20).fill(0xbb),
  downloaded: 1n,
  left: 2n ** 40n + 5n,
  uploaded: 2n ** 64n - 1n,
  event: 2,
  ip: 0x7f000001,
  key: 0xdeadbeef,
  numwant: -1,
  port: 6881,
}

describe('request encoding', () => {
  it('builds a connect request with the protocol id', () => {
    expect(hex(encodeConnectRequest(0x01020304))).toBe('0000041727101980' + '00000000' + '01020304')
  })

  it('lays out an announce request as BEP 15 says, 64-bit fields included', () => {
    const connectionId = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])
    const bytes = encodeAnnounceRequest(connectionId, 0x11223344, fields)
    expect(bytes.length).toBe(98)
    expect(hex(bytes.subarray(0, 16))).toBe('0102030405060708' + '00000001' + '11223344')
    expect(hex(bytes.subarray(16, 36))).toBe('aa'.repeat(20))
    expect(hex(bytes.subarray(36, 56))).toBe('bb'.repeat(20))
    expect(hex(bytes.subarray(56, 64))).toBe('0000000000000001')
    expect(hex(bytes.subarray(64, 72))).toBe('0000010000000005')
    expect(hex(bytes.subarray(72, 80))).toBe('ffffffffffffffff')
    expect(hex(bytes.subarray(80, 98))).toBe('00000002' + '7f000001' + 'deadbeef' + 'ffffffff' + '1ae1')
  })

  it('appends BEP 41 options after the fixed part', () => {
    const bytes = encodeAnnounceRequest(new Uint8Array(8), 1, fields, Uint8Array.from([2, 1, 0x2f]))
    expect(Array.from(bytes.subarray(98))).toEqual([2, 1, 0x2f])
  })

  it('lists scrape info hashes after the header', () => {
    const hashes = [new Uint8Array(20).fill(1), new Uint8Array(20).fill(2)]
    const bytes = encodeScrapeRequest(new Uint8Array(8).fill(9), 7, hashes)
    expect(bytes.length).toBe(56)
    expect(hex(bytes.subarray(8, 16))).toBe('00000002' + '00000007')
    expect(hex(bytes.subarray(16))).toBe('01'.repeat(20) + '02'.repeat(20))
  })
})

describe('parseResponse', () => {
  it('reads a connect response', () => {
    const id = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2])
    expect(parseResponse(datagram(0, 42, id), 4)).toEqual({
      action: 'connect',
      transactionId: 42,
      connectionId: id,
    })
  })

  it('reads IPv4 announce peers as 6-byte entries', () => {
    const peers = Uint8Array.from([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 80])
    expect(parseResponse(datagram(1, 5, 1800, 3, 4, peers), 4)).toEqual({
      action: 'announce',
      transactionId: 5,
      interval: 1800,
      leechers: 3,
      seeders: 4,
      peers: [
        { host: '127.0.0.1', port: 6881 },
        { host: '10.0.0.2', port: 80 },
      ],
    })
  })

  it('reads IPv6 announce peers as 18-byte entries', () => {
    const peer = new Uint8Array(18)
    peer[15] = 1
    peer.set([0x1a, 0xe1], 16)
    const parsed = parseResponse(datagram(1, 5, 60, 0, 1, peer), 6)
    expect(parsed).toMatchObject({ action: 'announce', peers: [{ host: '::1', port: 6881 }] })
  })

  it('reads scrape entries in order', () => {
    expect(parseResponse(datagram(2, 9, 1, 2, 3, 4, 5, 6), 4)).toEqual({
      action: 'scrape',
      transactionId: 9,
      entries: [
        { seeders: 1, completed: 2, leechers: 3 },
        { seeders: 4, completed: 5, leechers: 6 },
      ],
    })
  })

  it('reads an error message, dropping a trailing NUL and control characters', () => {
    const text = new TextEncoder().encode('unregistered\ttorrent\0')
    expect(parseResponse(datagram(3, 1, text), 4)).toEqual({
      action: 'error',
      transactionId: 1,
      message: 'unregistered torrent',
    })
  })

  it('caps the error message length', () => {
    const parsed = parseResponse(datagram(3, 1, new Uint8Array(5000).fill(0x41)), 4)
    expect(parsed.action === 'error' && parsed.message.length).toBe(1024)
  })

  it.each([
    ['a 7-byte datagram', Uint8Array.from([0, 0, 0, 0, 0, 0, 0]), undefined],
    ['a truncated connect response', datagram(0, 3, 1), 3],
    ['a truncated announce response', datagram(1, 3, 1, 2), 3],
    ['a partial peer entry', datagram(1, 3, 1, 2, 3, Uint8Array.from([1, 2, 3, 4, 5])), 3],
    ['a partial scrape entry', datagram(2, 3, 1, 2), 3],
    ['an unknown action', datagram(7, 3), 3],
  ])('marks %s as malformed', (_name, bytes, transactionId) => {
    expect(parseResponse(bytes, 4)).toMatchObject({ action: 'malformed', transactionId })
  })

  it('never throws on arbitrary datagrams and always names an action', () => {
    const actions = ['connect', 'announce', 'scrape', 'error', 'malformed']
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          // Datagrams that start with a valid action exercise the per-action parsers more often.
          fc
            .tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 400 }))
            .map(([action, rest]) => datagram(action, rest)),
        ),
        fc.constantFrom(4 as const, 6 as const),
        (bytes, family) => {
          const parsed: ParsedResponse = parseResponse(bytes, family)
          expect(actions).toContain(parsed.action)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('reads back any well-formed announce response', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 65535 }))),
        (transactionId, interval, leechers, seeders, peers) => {
          const compact = Uint8Array.from(peers.flatMap(([ip, port]) => [...ip, port >> 8, port & 0xff]))
          const parsed = parseResponse(datagram(1, transactionId, interval, leechers, seeders, compact), 4)
          expect(parsed).toEqual({
            action: 'announce',
            transactionId,
            interval,
            leechers,
            seeders,
            peers: peers.map(([ip, port]) => ({ host: ip.join('.'), port })),
          })
        },
      ),
    )
  })
})

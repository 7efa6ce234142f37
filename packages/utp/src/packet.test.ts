import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createPacket,
  decodePacket,
  EXTENSION_SACK,
  HEADER_SIZE,
  isUtpPacket,
  ST_DATA,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  writeHeader,
} from './packet.js'

function header(fields: Partial<Record<string, number>> = {}): Buffer {
  const b = Buffer.alloc(HEADER_SIZE)
  writeHeader(
    b,
    0,
    (fields.type ?? ST_DATA) as 0,
    fields.extension ?? 0,
    fields.connectionId ?? 0x1234,
    fields.timestamp ?? 0xdeadbeef,
    fields.timestampDiff ?? 0x01020304,
    fields.windowSize ?? 0x00100000,
    fields.seq ?? 0xfffe,
    fields.ack ?? 0x0001,
  )
  return b
}

describe('packet header', () => {
  it('encodes the BEP 29 layout byte for byte', () => {
    const b = header({ type: ST_STATE })
    expect(b.toString('hex')).toBe('2100' + '1234' + 'deadbeef' + '01020304' + '00100000' + 'fffe' + '0001')
  })

  it('round-trips every field', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2, 3, 4),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 64 }),
        (type, connectionId, timestamp, timestampDiff, windowSize, seq, ack, payload) => {
          const b = Buffer.concat([
            header({ type, connectionId, timestamp, timestampDiff, windowSize, seq, ack }),
            payload,
          ])
          const p = createPacket()
          expect(decodePacket(b, p)).toBe(true)
          expect(p).toMatchObject({ type, connectionId, timestamp, timestampDiff, windowSize, seq, ack })
          expect(p.payloadOffset).toBe(HEADER_SIZE)
          expect(b.subarray(p.payloadOffset)).toEqual(Buffer.from(payload))
        },
      ),
    )
  })

  it('demultiplexes like libtorrent: version 1, type ≤ 4, a full header; bencoded DHT messages are not uTP', () => {
    expect(isUtpPacket(header({ type: ST_SYN }))).toBe(true)
    expect(isUtpPacket(Buffer.from('d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe'))).toBe(false)
    const badVersion = header()
    badVersion[0] = (ST_DATA << 4) | 2
    expect(isUtpPacket(badVersion)).toBe(false)
    const badType = header()
    badType[0] = (5 << 4) | 1
    expect(isUtpPacket(badType)).toBe(false)
    expect(isUtpPacket(header().subarray(0, 19))).toBe(false)
  })

  it('finds the selective ack and skips unknown extensions by their length', () => {
    const sack = Buffer.from([0x00, 4, 0b101, 0, 0, 0])
    const unknown = Buffer.from([EXTENSION_SACK, 3, 9, 9, 9])
    const b = Buffer.concat([header({ extension: 7 }), unknown, sack, Buffer.from('payload')])
    const p = createPacket()
    expect(decodePacket(b, p)).toBe(true)
    expect(p.sackLength).toBe(4)
    expect(b[p.sackOffset]).toBe(0b101)
    expect(b.subarray(p.payloadOffset).toString()).toBe('payload')
  })

  it('rejects truncated extension chains', () => {
    const p = createPacket()
    expect(decodePacket(Buffer.concat([header({ extension: EXTENSION_SACK }), Buffer.from([0])]), p)).toBe(
      false,
    )
    expect(
      decodePacket(Buffer.concat([header({ extension: EXTENSION_SACK }), Buffer.from([0, 8, 1, 2])]), p),
    ).toBe(false)
    expect(decodePacket(Buffer.concat([header({ extension: 9 }), Buffer.from([1, 0, 0, 4, 1])]), p)).toBe(
      false,
    )
  })

  it('accepts selective acks of any length, as libtorrent sends them ((span + 7) / 8 bytes)', () => {
    const p = createPacket()
    const b = Buffer.concat([
      header({ extension: EXTENSION_SACK }),
      Buffer.from([0, 3, 1, 2, 3]),
      Buffer.from('x'),
    ])
    expect(decodePacket(b, p)).toBe(true)
    expect(p.sackLength).toBe(3)
    expect(b.subarray(p.payloadOffset).toString()).toBe('x')
    expect(decodePacket(Buffer.concat([header({ extension: EXTENSION_SACK }), Buffer.from([0, 0])]), p)).toBe(
      true,
    )
    expect(p.sackLength).toBe(0)
  })

  it('never throws on garbage', () => {
    const p = createPacket()
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodePacket(Buffer.from(bytes), p)
      }),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2, 3, 4), fc.uint8Array({ maxLength: 100 }), (type, tail) => {
        const b = Buffer.concat([header({ type, extension: tail[0] ?? 0 }), tail])
        if (decodePacket(b, p)) expect(p.payloadOffset).toBeLessThanOrEqual(b.length)
      }),
      { numRuns: 2000 },
    )
    expect(ST_RESET).toBe(3)
  })
})

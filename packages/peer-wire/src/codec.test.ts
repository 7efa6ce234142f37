import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_PIECE_COUNT, MessageDecoder } from './decoder.js'
import { encodedLength, encodeMessage } from './encoder.js'
import { PeerProtocolError } from './errors.js'
import type { WireMessage } from './messages.js'

const uint32 = fc.integer({ min: 0, max: 0xffff_ffff })
const index = fc.integer({ min: 0, max: 999 })

const message: fc.Arbitrary<WireMessage> = fc.oneof(
  fc.constantFrom<WireMessage>(
    { type: 'keep-alive' },
    { type: 'choke' },
    { type: 'unchoke' },
    { type: 'interested' },
    { type: 'not-interested' },
    { type: 'have-all' },
    { type: 'have-none' },
  ),
  fc.record({ type: fc.constantFrom('have', 'suggest', 'allowed-fast'), index }) as fc.Arbitrary<WireMessage>,
  fc.record({
    type: fc.constantFrom('request', 'cancel', 'reject'),
    index,
    begin: uint32,
    length: uint32,
  }) as fc.Arbitrary<WireMessage>,
  fc.record({
    type: fc.constant('port'),
    port: fc.integer({ min: 0, max: 0xffff }),
  }) as fc.Arbitrary<WireMessage>,
  fc.record({ type: fc.constant('bitfield'), bitfield: fc.uint8Array({ minLength: 125, maxLength: 125 }) }),
  fc.record({
    type: fc.constant('piece'),
    index,
    begin: uint32,
    block: fc.uint8Array({ maxLength: 40_000 }),
  }) as fc.Arbitrary<WireMessage>,
  fc.record({
    type: fc.constant('extended'),
    id: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 300 }),
  }) as fc.Arbitrary<WireMessage>,
)

/** `bytes` cut at the given (sorted, deduplicated) positions. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let start = 0
  for (const position of [...positions, bytes.length]) {
    chunks.push(bytes.slice(start, position))
    start = position
  }
  return chunks
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

function decodeAll(decoder: MessageDecoder, chunks: Uint8Array[]): WireMessage[] {
  const out: WireMessage[] = []
  for (const chunk of chunks) {
    decoder.push(chunk)
    for (let next = decoder.next(); next !== undefined; next = decoder.next()) out.push(next)
  }
  return out
}

describe('codec', () => {
  it('round-trips every message type, whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (messages, cuts) => {
          const encoded = messages.map(encodeMessage)
          for (const [i, bytes] of encoded.entries()) expect(bytes.length).toBe(encodedLength(messages[i]!))
          const decoder = new MessageDecoder({ pieceCount: 1000 })
          expect(decodeAll(decoder, split(concat(encoded), cuts))).toEqual(messages)
          expect(decoder.bufferedLength).toBe(0)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('returns a block that sits in one chunk as a view of it, and copies one that spans chunks', () => {
    const block = Uint8Array.from({ length: 16384 }, (_, i) => i & 0xff)
    const bytes = encodeMessage({ type: 'piece', index: 1, begin: 16384, block })
    const decoder = new MessageDecoder()
    decoder.push(bytes)
    const whole = decoder.next()
    expect(whole).toEqual({ type: 'piece', index: 1, begin: 16384, block })
    expect(whole?.type === 'piece' && whole.block.buffer).toBe(bytes.buffer)

    const [first, second] = split(bytes, [1000])
    decoder.push(first!)
    expect(decoder.next()).toBeUndefined()
    decoder.push(second!)
    const spanning = decoder.next()
    expect(spanning).toEqual({ type: 'piece', index: 1, begin: 16384, block })
    const spanningBuffer = spanning?.type === 'piece' ? spanning.block.buffer : undefined
    expect(spanningBuffer).not.toBe(first!.buffer)
    expect(spanningBuffer).not.toBe(second!.buffer)
  })

  it('rejects an oversized length prefix from its first five bytes, before buffering the body', () => {
    const cases: [Uint8Array, MessageDecoder][] = [
      [Uint8Array.of(0xff, 0xff, 0xff, 0xff, 7), new MessageDecoder()],
      [Uint8Array.of(0x00, 0x00, 0x40, 0x0a, 7), new MessageDecoder({ maxBlockLength: 16384 })],
      [Uint8Array.of(0x00, 0x10, 0x00, 0x03, 20), new MessageDecoder()],
      [Uint8Array.of(0x00, 0x00, 0x00, 0x04, 5), new MessageDecoder({ pieceCount: 10 })],
      [Uint8Array.of(0x00, 0x08, 0x00, 0x02, 5), new MessageDecoder()],
      [Uint8Array.of(0x00, 0x00, 0x00, 0x02, 0), new MessageDecoder()],
      [Uint8Array.of(0x00, 0x00, 0x00, 0x0c, 6), new MessageDecoder()],
    ]
    for (const [bytes, decoder] of cases) {
      decoder.push(bytes)
      expect(() => decoder.next()).toThrow(PeerProtocolError)
    }
    // The largest accepted bitfield while the piece count is unknown is waited for, not rejected.
    const decoder = new MessageDecoder()
    const length = MAX_PIECE_COUNT / 8 + 1
    decoder.push(
      Uint8Array.of(length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff, 5),
    )
    expect(decoder.next()).toBeUndefined()
  })

  it('rejects unknown ids and piece indices past the piece count with typed errors', () => {
    const unknown = new MessageDecoder()
    unknown.push(Uint8Array.of(0, 0, 0, 1, 21))
    expect(() => unknown.next()).toThrow(
      expect.objectContaining({ reason: 'unknown-message', messageId: 21 }),
    )
    const index = new MessageDecoder({ pieceCount: 4 })
    index.push(encodeMessage({ type: 'have', index: 4 }))
    expect(() => index.next()).toThrow(expect.objectContaining({ reason: 'invalid-index', messageId: 4 }))
  })

  it('never throws anything but PeerProtocolError on arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }),
        fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }),
        (chunks, pieceCount) => {
          const decoder = new MessageDecoder({ pieceCount, maxBlockLength: 32 })
          try {
            decodeAll(decoder, chunks)
          } catch (error) {
            expect(error).toBeInstanceOf(PeerProtocolError)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('decodes valid messages mixed with arbitrary valid prefixes byte by byte', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), (messages) => {
        const bytes = concat(messages.map(encodeMessage))
        const decoder = new MessageDecoder({ pieceCount: 1000 })
        const chunks = Array.from(bytes, (byte) => Uint8Array.of(byte))
        expect(decodeAll(decoder, chunks)).toEqual(messages)
      }),
      { numRuns: 50 },
    )
  })

  it('refuses to encode fields that do not fit the wire', () => {
    expect(() => encodeMessage({ type: 'have', index: -1 })).toThrow(RangeError)
    expect(() => encodeMessage({ type: 'port', port: 70000 })).toThrow(RangeError)
    expect(() => encodeMessage({ type: 'request', index: 0, begin: 0, length: 2 ** 32 })).toThrow(RangeError)
    expect(() => encodeMessage({ type: 'extended', id: 256, payload: new Uint8Array() })).toThrow(RangeError)
  })
})

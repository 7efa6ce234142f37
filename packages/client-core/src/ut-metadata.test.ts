import { encode } from '@bt/bencode'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MetadataMessageError } from './errors.js'
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  METADATA_PIECE_SIZE,
  type MetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
} from './ut-metadata.js'

const text = (s: string) => new TextEncoder().encode(s)

describe('ut_metadata messages', () => {
  it('encodes as BEP 9 shows them', () => {
    expect(Buffer.from(encodeMetadataMessage({ type: 'request', piece: 0 })).toString()).toBe(
      'd8:msg_typei0e5:piecei0ee',
    )
    expect(Buffer.from(encodeMetadataMessage({ type: 'reject', piece: 3 })).toString()).toBe(
      'd8:msg_typei2e5:piecei3ee',
    )
    const data = encodeMetadataMessage({ type: 'data', piece: 1, totalSize: 20000, data: text('xyz') })
    expect(Buffer.from(data).toString()).toBe('d8:msg_typei1e5:piecei1e10:total_sizei20000eexyz')
  })

  it('round-trips every message type', () => {
    const message = fc.oneof(
      fc.record({ type: fc.constant('request' as const), piece: fc.nat() }),
      fc.record({ type: fc.constant('reject' as const), piece: fc.nat() }),
      fc.record({
        type: fc.constant('data' as const),
        piece: fc.nat(),
        totalSize: fc.integer({ min: 1, max: 2 ** 40 }),
        data: fc.uint8Array({ maxLength: 64 }),
      }),
    )
    fc.assert(
      fc.property(message, (m: MetadataMessage) => {
        expect(decodeMetadataMessage(encodeMetadataMessage(m))).toEqual(m)
      }),
    )
  })

  it('ignores message types it does not know', () => {
    expect(decodeMetadataMessage(encode({ msg_type: 7, piece: 0 }))).toBeUndefined()
  })

  it.each([
    ['not bencode', text('garbage')],
    ['not a dictionary', encode([1, 2])],
    ['no msg_type', encode({ piece: 0 })],
    ['negative piece', encode({ msg_type: 0, piece: -1 })],
    ['string piece', encode({ msg_type: 0, piece: 'x' })],
    ['data without total_size', encode({ msg_type: 1, piece: 0 })],
    ['bytes after a request', Buffer.concat([encode({ msg_type: 0, piece: 0 }), text('x')])],
  ])('rejects %s with a typed error', (_, payload) => {
    expect(() => decodeMetadataMessage(payload)).toThrow(MetadataMessageError)
  })

  it('splits sizes into 16 KiB pieces', () => {
    expect(metadataPieceCount(METADATA_PIECE_SIZE)).toBe(1)
    expect(metadataPieceCount(METADATA_PIECE_SIZE + 1)).toBe(2)
    expect(metadataPieceLength(METADATA_PIECE_SIZE + 1, 0)).toBe(METADATA_PIECE_SIZE)
    expect(metadataPieceLength(METADATA_PIECE_SIZE + 1, 1)).toBe(1)
  })
})

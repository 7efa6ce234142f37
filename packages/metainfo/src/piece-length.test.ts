import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  choosePieceLength,
  isValidPieceLength,
  MAX_AUTO_PIECE_LENGTH,
  MIN_PIECE_LENGTH,
  TARGET_MAX_PIECES,
} from './piece-length.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

describe('choosePieceLength', () => {
  it.each([
    [1, 16 * KiB],
    [32 * MiB, 16 * KiB],
    [32 * MiB + 1, 32 * KiB],
    [100 * MiB, 64 * KiB],
    [700 * MiB, 512 * KiB],
    [GiB, 512 * KiB],
    [4 * GiB, 2 * MiB],
    [32 * GiB, 16 * MiB],
    [1024 * GiB, 16 * MiB],
  ])('gives %d bytes pieces of %d', (total, expected) => {
    expect(choosePieceLength(total)).toBe(expected)
  })

  it('keeps 1025..2048 pieces unless clamped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (total) => {
        const pieceLength = choosePieceLength(total)
        expect(isValidPieceLength(pieceLength)).toBe(true)
        expect(pieceLength).toBeLessThanOrEqual(MAX_AUTO_PIECE_LENGTH)
        const pieces = Math.ceil(total / pieceLength)
        if (pieceLength < MAX_AUTO_PIECE_LENGTH) expect(pieces).toBeLessThanOrEqual(TARGET_MAX_PIECES)
        if (pieceLength > MIN_PIECE_LENGTH) expect(pieces).toBeGreaterThan(TARGET_MAX_PIECES / 2)
      }),
    )
  })

  it('rejects sizes that are not non-negative integers', () => {
    expect(() => choosePieceLength(-1)).toThrow(RangeError)
    expect(() => choosePieceLength(1.5)).toThrow(RangeError)
  })
})

describe('isValidPieceLength', () => {
  it.each([16 * KiB, 32 * KiB, MiB, 256 * MiB])('accepts %d', (pieceLength) => {
    expect(isValidPieceLength(pieceLength)).toBe(true)
  })

  it.each([0, 8 * KiB, 16 * KiB + 1, 48 * KiB, 512 * MiB, Number.NaN, 2 ** 40])(
    'rejects %d',
    (pieceLength) => {
      expect(isValidPieceLength(pieceLength)).toBe(false)
    },
  )
})

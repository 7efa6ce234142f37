import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createFileLayout } from './file-layout.js'
import type { FileSpan } from './types.js'

/** Byte-by-byte reference: which (file, offset) holds each byte of `[offset, offset + length)`. */
function referenceSpans(lengths: readonly number[], offset: number, length: number): FileSpan[] {
  const spans: FileSpan[] = []
  let fileStart = 0
  lengths.forEach((fileLength, fileIndex) => {
    const start = Math.max(offset, fileStart)
    const end = Math.min(offset + length, fileStart + fileLength)
    if (end > start) spans.push({ fileIndex, fileOffset: start - fileStart, length: end - start })
    fileStart += fileLength
  })
  return spans
}

const layoutInput = fc
  .tuple(
    fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 51, max: 400 })), {
      minLength: 1,
      maxLength: 30,
    }),
    fc.integer({ min: 1, max: 64 }),
  )
  .filter(([lengths]) => lengths.some((length) => length > 0))

describe('createFileLayout', () => {
  it('maps pieces onto files, skipping empty ones', () => {
    const layout = createFileLayout([3, 0, 5, 2], 4)
    expect(layout.totalLength).toBe(10)
    expect(layout.pieceCount).toBe(3)
    expect([0, 1, 2].map((index) => layout.pieceLengthAt(index))).toEqual([4, 4, 2])
    expect(layout.spansForPiece(0)).toEqual([
      { fileIndex: 0, fileOffset: 0, length: 3 },
      { fileIndex: 2, fileOffset: 0, length: 1 },
    ])
    expect(layout.spansForPiece(1)).toEqual([{ fileIndex: 2, fileOffset: 1, length: 4 }])
    expect(layout.spansForPiece(2)).toEqual([{ fileIndex: 3, fileOffset: 0, length: 2 }])
    expect(layout.spansForRange(2, 7)).toEqual([
      { fileIndex: 0, fileOffset: 2, length: 1 },
      { fileIndex: 2, fileOffset: 0, length: 5 },
      { fileIndex: 3, fileOffset: 0, length: 1 },
    ])
    expect(layout.spansForRange(10, 0)).toEqual([])
    expect(layout.piecesForFile(0)).toEqual([0, 0])
    expect(layout.piecesForFile(1)).toBeUndefined()
    expect(layout.piecesForFile(2)).toEqual([0, 1])
    expect(layout.piecesForFile(3)).toEqual([2, 2])
  })

  it('rejects indices and ranges outside the content', () => {
    const layout = createFileLayout([3, 5], 4)
    expect(() => layout.spansForPiece(2)).toThrow(RangeError)
    expect(() => layout.spansForPiece(-1)).toThrow(RangeError)
    expect(() => layout.spansForPiece(0.5)).toThrow(RangeError)
    expect(() => layout.pieceLengthAt(2)).toThrow(RangeError)
    expect(() => layout.spansForRange(7, 2)).toThrow(RangeError)
    expect(() => layout.spansForRange(-1, 1)).toThrow(RangeError)
    expect(() => layout.piecesForFile(2)).toThrow(RangeError)
    expect(() => createFileLayout([1], 0)).toThrow(RangeError)
    expect(() => createFileLayout([-1], 4)).toThrow(RangeError)
    expect(() => createFileLayout([Number.MAX_SAFE_INTEGER, 1], 4)).toThrow(RangeError)
  })

  it('covers every piece exactly, in order (property)', () => {
    fc.assert(
      fc.property(layoutInput, ([lengths, pieceLength]) => {
        const layout = createFileLayout(lengths, pieceLength)
        const total = lengths.reduce((sum, length) => sum + length, 0)
        expect(layout.pieceCount).toBe(Math.ceil(total / pieceLength))
        const offsets = lengths.map((_, index) =>
          lengths.slice(0, index).reduce((sum, length) => sum + length, 0),
        )
        let position = 0
        for (let index = 0; index < layout.pieceCount; index++) {
          const spans = layout.spansForPiece(index)
          expect(spans).toEqual(referenceSpans(lengths, index * pieceLength, layout.pieceLengthAt(index)))
          for (const span of spans) {
            expect(span.length).toBeGreaterThan(0)
            expect(span.fileOffset + span.length).toBeLessThanOrEqual(lengths[span.fileIndex]!)
            expect(offsets[span.fileIndex]! + span.fileOffset).toBe(position)
            position += span.length
          }
        }
        expect(position).toBe(total)
        lengths.forEach((length, fileIndex) => {
          const pieces = layout.piecesForFile(fileIndex)
          if (length === 0) {
            expect(pieces).toBeUndefined()
            return
          }
          const touching = Array.from({ length: layout.pieceCount }, (_, index) => index).filter((index) =>
            layout.spansForPiece(index).some((span) => span.fileIndex === fileIndex),
          )
          expect(pieces).toEqual([touching[0], touching.at(-1)])
        })
      }),
      { numRuns: 300 },
    )
  })

  it('maps any byte range like a byte-by-byte walk (property)', () => {
    const input = layoutInput.chain(([lengths, pieceLength]) => {
      const total = lengths.reduce((sum, length) => sum + length, 0)
      return fc
        .integer({ min: 0, max: total })
        .chain((offset) =>
          fc.tuple(
            fc.constant(lengths),
            fc.constant(pieceLength),
            fc.constant(offset),
            fc.integer({ min: 0, max: total - offset }),
          ),
        )
    })
    fc.assert(
      fc.property(input, ([lengths, pieceLength, offset, length]) => {
        expect(createFileLayout(lengths, pieceLength).spansForRange(offset, length)).toEqual(
          referenceSpans(lengths, offset, length),
        )
      }),
      { numRuns: 500 },
    )
  })

  it('handles tens of thousands of files', () => {
    const lengths = Array.from({ length: 50_000 }, (_, index) => (index % 7 === 0 ? 0 : 1000 + (index % 13)))
    const layout = createFileLayout(lengths, 16384)
    const last = layout.pieceCount - 1
    expect(layout.spansForPiece(last)).toEqual(
      referenceSpans(lengths, last * 16384, layout.pieceLengthAt(last)),
    )
    expect(layout.spansForPiece(1234)).toEqual(referenceSpans(lengths, 1234 * 16384, 16384))
  })
})

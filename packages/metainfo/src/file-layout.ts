// Maps pieces and byte ranges of a torrent's concatenated content onto its files. Lookups binary-search
// the file offsets, so a torrent with a million files costs O(log n) per lookup plus the spans returned.
import type { FileLayout, FileSpan } from './types.js'

/**
 * The layout of files with the given lengths, in torrent order, cut into pieces of `pieceLength`.
 * Throws `RangeError` for lengths that are not non-negative safe integers, or a total beyond 2^53 − 1.
 */
export function createFileLayout(fileLengths: readonly number[], pieceLength: number): FileLayout {
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) {
    throw new RangeError(`piece length must be a positive integer, got ${pieceLength}`)
  }
  const offsets = new Float64Array(fileLengths.length)
  const lengths = new Float64Array(fileLengths.length)
  const nonEmpty: number[] = []
  let total = 0
  fileLengths.forEach((length, index) => {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`file ${index}: length must be a non-negative integer, got ${length}`)
    }
    offsets[index] = total
    lengths[index] = length
    if (length > 0) nonEmpty.push(index)
    total += length
    if (!Number.isSafeInteger(total)) throw new RangeError('total length exceeds 2^53 - 1')
  })
  return new Layout(pieceLength, total, offsets, lengths, Uint32Array.from(nonEmpty))
}

class Layout implements FileLayout {
  readonly pieceCount: number

  constructor(
    readonly pieceLength: number,
    readonly totalLength: number,
    private readonly offsets: Float64Array,
    private readonly lengths: Float64Array,
    /** Indices of the files with bytes, in order: together they tile `[0, totalLength)`. */
    private readonly nonEmpty: Uint32Array,
  ) {
    this.pieceCount = Math.ceil(totalLength / pieceLength)
  }

  pieceLengthAt(index: number): number {
    this.checkPiece(index)
    return Math.min(this.pieceLength, this.totalLength - index * this.pieceLength)
  }

  spansForPiece(index: number): FileSpan[] {
    this.checkPiece(index)
    const start = index * this.pieceLength
    return this.spans(start, Math.min(this.pieceLength, this.totalLength - start))
  }

  spansForRange(offset: number, length: number): FileSpan[] {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.totalLength
    ) {
      throw new RangeError(`range [${offset}, ${offset + length}) is outside [0, ${this.totalLength})`)
    }
    return this.spans(offset, length)
  }

  piecesForFile(fileIndex: number): [first: number, last: number] | undefined {
    if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex >= this.lengths.length) {
      throw new RangeError(`file index ${fileIndex} is outside [0, ${this.lengths.length})`)
    }
    const length = this.lengths[fileIndex]!
    if (length === 0) return undefined
    const offset = this.offsets[fileIndex]!
    return [Math.floor(offset / this.pieceLength), Math.floor((offset + length - 1) / this.pieceLength)]
  }

  private spans(offset: number, length: number): FileSpan[] {
    const spans: FileSpan[] = []
    const end = offset + length
    let position = offset
    for (let at = this.nonEmptyAt(offset); position < end; at++) {
      const fileIndex = this.nonEmpty[at]!
      const fileOffset = position - this.offsets[fileIndex]!
      const spanLength = Math.min(this.lengths[fileIndex]! - fileOffset, end - position)
      spans.push({ fileIndex, fileOffset, length: spanLength })
      position += spanLength
    }
    return spans
  }

  /** Position in `nonEmpty` of the file holding byte `offset`: the last one starting at or before it. */
  private nonEmptyAt(offset: number): number {
    let low = 0
    let high = this.nonEmpty.length - 1
    while (low < high) {
      const middle = (low + high + 1) >>> 1
      if (this.offsets[this.nonEmpty[middle]!]! <= offset) low = middle
      else high = middle - 1
    }
    return low
  }

  private checkPiece(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`piece index ${index} is outside [0, ${this.pieceCount})`)
    }
  }
}

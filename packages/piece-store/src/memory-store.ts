// A piece store in memory: the same contract as the file store without a disk, for tests and for
// short-lived downloads (e.g. fetching one piece). Holds at most the torrent's size.
import type { Bitfield } from '@bt/bitfield'
import type { Metainfo } from '@bt/metainfo'
import { checkPieces } from './check-pieces.js'
import { type CheckAllOptions, StoreBase } from './store-base.js'
import type { PieceStore } from './types.js'

export interface MemoryStoreInit {
  /** See `PieceStore.highWaterMark`; default 8 MiB (two pieces if larger). */
  highWaterMark?: number
}

/** A `PieceStore` keeping pieces in memory. Nothing is persisted: `flush` does nothing. */
export function createMemoryStore(meta: Metainfo, init: MemoryStoreInit = {}): PieceStore {
  return new MemoryStore(meta, init.highWaterMark)
}

class MemoryStore extends StoreBase {
  private readonly pieces: (Uint8Array | undefined)[]
  /** Byte ranges of each piece that belong to BEP 47 padding files: stored as zeros, like on disk. */
  private readonly paddingRanges: ([start: number, end: number][] | undefined)[]

  constructor(meta: Metainfo, highWaterMark: number | undefined) {
    super(meta, highWaterMark)
    this.pieces = new Array(meta.pieceCount)
    this.paddingRanges = new Array(meta.pieceCount)
    if (meta.files.some((file) => file.padding)) {
      for (let index = 0; index < meta.pieceCount; index++) {
        const ranges: [number, number][] = []
        let at = 0
        for (const span of meta.layout.spansForPiece(index)) {
          if (meta.files[span.fileIndex]!.padding) ranges.push([at, at + span.length])
          at += span.length
        }
        if (ranges.length > 0) this.paddingRanges[index] = ranges
      }
    }
  }

  // A skipped file's bytes are kept too (memory holds no files); the piece completes only when written
  // again with every file wanted, as on disk.
  protected async storePiece(index: number, data: Uint8Array): Promise<void> {
    const copy = data.slice()
    for (const [start, end] of this.paddingRanges[index] ?? []) copy.fill(0, start, end)
    this.pieces[index] = copy
  }

  protected async readRangeInto(index: number, begin: number, target: Uint8Array): Promise<void> {
    const piece = this.pieces[index]
    if (piece === undefined) throw new Error(`piece-store: piece ${index} is marked complete but not stored`)
    target.set(piece.subarray(begin, begin + target.length))
  }

  protected async readStored(index: number, target: Uint8Array): Promise<boolean> {
    const piece = this.pieces[index]
    if (piece === undefined) return false
    target.set(piece)
    return true
  }

  protected checkAll(options: CheckAllOptions): Promise<Bitfield> {
    return checkPieces({
      meta: this.meta,
      pieces: Array.from({ length: this.meta.pieceCount }, (_, index) => index),
      read: (index, target) => this.readStored(index, target),
      workers: options.workers ?? 0,
      signal: options.signal,
      onProgress: options.onProgress,
    })
  }

  protected async persist(): Promise<void> {}

  protected async release(): Promise<void> {
    this.pieces.fill(undefined)
  }

  protected async erase(): Promise<void> {
    this.pieces.fill(undefined)
  }
}

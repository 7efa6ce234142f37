// The contract between the client and wherever pieces live: write a verified piece, read blocks of
// complete pieces, know which pieces are complete. Implementations: a file store and a memory store.
import type { Bitfield } from '@bt/bitfield'

export interface AbortOptions {
  signal?: AbortSignal
}

export interface RecheckProgress {
  checkedPieces: number
  totalPieces: number
  checkedBytes: number
  totalBytes: number
  /** Pieces found complete so far. */
  validPieces: number
}

export interface RecheckOptions extends AbortOptions {
  /** Called after each piece is checked. */
  onProgress?: (progress: RecheckProgress) => void
  /** Hashing threads (file store); defaults to the store's `workers`. */
  workers?: number
}

export interface PieceStore {
  /**
   * Complete, verified pieces. A live view kept up to date by the store: read it, never mutate it
   * (clone it to keep a snapshot).
   */
  readonly have: Bitfield
  /**
   * Bytes handed to `writePiece` whose promise has not settled yet. Backpressure: stop feeding pieces
   * (pause sockets) while this is at or above `highWaterMark`, and await `drained()`.
   */
  readonly pendingBytes: number
  readonly highWaterMark: number
  /** Resolves once `pendingBytes` is below `highWaterMark` (at once if it already is). */
  drained(options?: AbortOptions): Promise<void>
  /**
   * Stores piece `index` and marks it complete. `data` must be the whole piece (`layout.pieceLengthAt`
   * bytes, else `RangeError`). It is hashed first and a mismatch rejects with `PieceHashMismatchError`
   * before anything is written. A piece that is already complete is left alone.
   * A disk failure rejects with `StorageError` and leaves the piece incomplete. Different pieces may be
   * written concurrently; the caller may reuse `data` once the promise settles. Resolves `true` once the
   * piece is complete, `false` when it covers a skipped file (see `setFileWanted`).
   */
  writePiece(index: number, data: Uint8Array, options?: AbortOptions): Promise<boolean>
  /**
   * Skips file `fileIndex` (`false`) or wants it again (`true`, the default for every file). A skipped
   * file is never created or written: `writePiece` of a piece that also covers it writes only the other
   * files' bytes, does not mark the piece complete and resolves `false` (the piece is written whole, and
   * completes, once the file is wanted again). Padding files (BEP 47) are never written either way.
   */
  setFileWanted(fileIndex: number, wanted: boolean): void
  isFileWanted(fileIndex: number): boolean
  /**
   * `length` bytes at `begin` inside complete piece `index`; `PieceMissingError` if it isn't complete,
   * `RangeError` if the range is empty or outside the piece. Padding files (BEP 47) read as zeros.
   */
  readBlock(index: number, begin: number, length: number, options?: AbortOptions): Promise<Uint8Array>
  /**
   * Fills `target` with the `target.length` bytes at `begin` inside complete piece `index`, with the
   * checks of `readBlock`. For callers that recycle their buffers (an upload cache): no allocation, no
   * garbage. Leave `target` alone until the promise settles.
   */
  readBlockInto(index: number, begin: number, target: Uint8Array, options?: AbortOptions): Promise<void>
  /** The whole of complete piece `index` (as `readBlock(index, 0, pieceLength)`). */
  readPiece(index: number, options?: AbortOptions): Promise<Uint8Array>
  /**
   * Hashes what is stored for piece `index` and updates `have` to match: `true` (now complete) or
   * `false` (now incomplete; missing or short files count as wrong data).
   */
  verifyPiece(index: number, options?: AbortOptions): Promise<boolean>
  /**
   * Re-verifies every piece from storage and makes `have` match; returns a snapshot of it. Rejects
   * (leaving `have` unchanged) if aborted. Pieces written while it runs keep their write's outcome.
   */
  recheck(options?: RecheckOptions): Promise<Bitfield>
  /** Persists completion now (no-op for stores without persistence). */
  flush(options?: AbortOptions): Promise<void>
  /**
   * Waits for pending writes, persists completion, releases files. Every later call rejects with
   * `StoreClosedError`; calling `close` again is a no-op.
   */
  close(options?: AbortOptions): Promise<void>
  /**
   * Closes the store (as `close`, without persisting completion first), then deletes what it holds for
   * this torrent: its content and its resume data (file store: see its README for exactly what), and
   * empties `have`. May be called after `close`, and again: each call deletes whatever is still there.
   */
  destroy(options?: AbortOptions): Promise<void>
}

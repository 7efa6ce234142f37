// The package's error classes, one per condition. Callers match on `err.name`, which survives duplicated
// installs; the structured fields say which piece and which file.

/**
 * Why a storage operation failed: an errno code from the file system (`ENOSPC`, `EACCES`, `EROFS`, `EIO`,
 * `ENOTDIR`, `ENOENT`, …) or one of the store's own conditions.
 */
export type StorageErrorCode =
  /** A path leads outside the download directory through a symbolic link, or the file itself is a symlink. */
  | 'UNSAFE_PATH'
  /** Something other than a regular file sits where a content file belongs (a directory, a FIFO…). */
  | 'NOT_A_FILE'
  /** A file holding part of a complete piece ends too early: it was truncated behind the store's back. */
  | 'SHORT_FILE'
  /** The resume file is unreadable or belongs to another torrent; it was ignored (reported via `onError`). */
  | 'BAD_RESUME'
  | (string & {})

/**
 * A disk operation failed. A failed write leaves its piece incomplete and never touches complete pieces.
 * `path` is the file (or resume file) involved, `pieceIndex` the piece being written or read when there
 * is one; the original Node.js error is the `cause`.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError'
  readonly code: StorageErrorCode
  readonly path: string | undefined
  readonly pieceIndex: number | undefined
  /** The problem alone, without the code and location that `message` adds. */
  readonly detail: string

  constructor(
    code: StorageErrorCode,
    problem: string,
    where: { path?: string | undefined; pieceIndex?: number | undefined } = {},
    options?: ErrorOptions,
  ) {
    const piece = where.pieceIndex === undefined ? '' : ` (piece ${where.pieceIndex})`
    const path = where.path === undefined ? '' : ` ${where.path}`
    super(`piece-store: ${code}${path}${piece}: ${problem}`, options)
    this.code = code
    this.path = where.path
    this.pieceIndex = where.pieceIndex
    this.detail = problem
  }
}

/** `writePiece` got data whose SHA-1 is not the torrent's hash for that piece. Nothing was written. */
export class PieceHashMismatchError extends Error {
  override readonly name = 'PieceHashMismatchError'
  readonly pieceIndex: number
  /** Hex SHA-1 the torrent expects. */
  readonly expected: string
  /** Hex SHA-1 of the data given. */
  readonly actual: string

  constructor(pieceIndex: number, expected: string, actual: string) {
    super(`piece-store: piece ${pieceIndex} hashes to ${actual}, expected ${expected}`)
    this.pieceIndex = pieceIndex
    this.expected = expected
    this.actual = actual
  }
}

/** A read asked for a piece that is not complete: only verified data is ever served. */
export class PieceMissingError extends Error {
  override readonly name = 'PieceMissingError'
  readonly pieceIndex: number

  constructor(pieceIndex: number) {
    super(`piece-store: piece ${pieceIndex} is not complete`)
    this.pieceIndex = pieceIndex
  }
}

/** The store was closed (or is closing); it accepts no more work. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError'

  constructor() {
    super('piece-store: the store is closed')
  }
}

/**
 * Whether `error` is a `PieceHashMismatchError`, by name: true for one thrown by another copy of this
 * package too (duplicated installs), where `instanceof` is false.
 */
export function isPieceHashMismatchError(error: unknown): error is PieceHashMismatchError {
  return error instanceof Error && error.name === 'PieceHashMismatchError'
}

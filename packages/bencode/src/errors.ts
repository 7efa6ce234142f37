// The package's error classes. Callers match on `err.name`, which survives duplicated installs.

export type BencodeDecodeErrorCode =
  | 'UNEXPECTED_END'
  | 'UNEXPECTED_BYTE'
  | 'INVALID_INTEGER'
  | 'LEADING_ZERO'
  | 'NEGATIVE_ZERO'
  | 'INVALID_LENGTH'
  | 'UNSORTED_KEYS'
  | 'DUPLICATE_KEY'
  | 'TRAILING_BYTES'
  | 'DEPTH_EXCEEDED'
  | 'NOT_FOUND'

/** The input is not (canonical) bencode. `offset` is the index of the offending byte in the input. */
export class BencodeDecodeError extends Error {
  override readonly name = 'BencodeDecodeError'
  readonly code: BencodeDecodeErrorCode
  readonly offset: number

  constructor(code: BencodeDecodeErrorCode, offset: number, message: string) {
    super(`bencode: ${message} at byte ${offset}`)
    this.code = code
    this.offset = offset
  }
}

/** A value that has no bencode form (a float, `null`, a key that is not a byte string…). `path` says where. */
export class BencodeEncodeError extends Error {
  override readonly name = 'BencodeEncodeError'
  readonly path: string

  constructor(path: string, message: string) {
    super(`bencode: cannot encode ${path || 'value'}: ${message}`)
    this.path = path
  }
}

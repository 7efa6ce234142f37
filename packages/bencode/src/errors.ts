// The package's error classes. Callers match on `err.name`, which survives duplicated installs.

/** Why input was rejected. Those marked (strict) are accepted with `{ strict: false }`. */
export type BencodeDecodeErrorCode =
  /** The input ends inside a value, or a string's declared length runs past the end. */
  | 'UNEXPECTED_END'
  /** A byte that cannot start a value here (or a dictionary key that is not a byte string). */
  | 'UNEXPECTED_BYTE'
  /** `i…e` holds something other than an optional `-` and at least one digit. */
  | 'INVALID_INTEGER'
  /** (strict) An integer or string length written with a leading zero: `i03e`, `03:abc`. */
  | 'LEADING_ZERO'
  /** (strict) `i-0e`. */
  | 'NEGATIVE_ZERO'
  /** A string length holds a byte other than a digit before its `:`. */
  | 'INVALID_LENGTH'
  /** (strict) Dictionary keys not in ascending raw-byte order. */
  | 'UNSORTED_KEYS'
  /** (strict) The same key twice in one dictionary. */
  | 'DUPLICATE_KEY'
  /** (strict) Bytes after the value (`decode` and `spanOf` only; `decodePrefix` allows them). */
  | 'TRAILING_BYTES'
  /** An integer with more than `MAX_INTEGER_DIGITS` (1024) digits. */
  | 'INTEGER_TOO_LONG'
  /** Lists and dictionaries nested deeper than `maxDepth`, or than the call stack allows. */
  | 'DEPTH_EXCEEDED'
  /** A container past what the JavaScript engine can hold (a `Map` of more than 2^24 keys). */
  | 'LIMIT_EXCEEDED'
  /** `spanOf`: the input is valid but the path leads nowhere. */
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

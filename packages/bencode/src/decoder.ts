// A single-pass recursive-descent decoder over a Uint8Array. Byte strings are returned as views into
// the input (no copy); every length is checked against the remaining input before it is used, so
// nothing is allocated for data that is not there.
import { BencodeDecodeError } from './errors.js'
import { binaryString } from './text.js'
import type { BencodeDict, BencodeValue } from './value.js'

export interface DecodeOptions {
  /**
   * Reject what BEP 3 forbids: leading zeros, `-0`, unsorted or duplicate keys, trailing bytes.
   * Default `true`. `false` accepts the non-canonical input real-world torrents sometimes contain
   * (duplicate keys: the first one wins, as in libtorrent). Malformed input is rejected either way.
   */
  strict?: boolean
  /** Maximum nesting of lists and dictionaries. Default 256. */
  maxDepth?: number
}

/**
 * Integers longer than this are rejected (`INTEGER_TOO_LONG`): real ones fit in 20 digits, and a
 * megabyte of digits would otherwise cost a long BigInt parse.
 */
export const MAX_INTEGER_DIGITS = 1024

const DEFAULT_MAX_DEPTH = 256

export const E = 0x65 // 'e'
const I = 0x69 // 'i'
export const L = 0x6c // 'l'
export const D = 0x64 // 'd'
const COLON = 0x3a
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39

/** Decoding state over one input; internal to the package. */
export class Decoder {
  pos = 0
  private readonly strict: boolean
  private readonly maxDepth: number

  readonly bytes: Uint8Array

  constructor(bytes: Uint8Array, options: DecodeOptions) {
    // A plain view: byte strings come out as plain Uint8Arrays whatever subclass came in, and a
    // Buffer's subarray (a JS-level constructor call per string) is several times slower.
    this.bytes =
      bytes.constructor === Uint8Array
        ? bytes
        : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.strict = options.strict ?? true
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH
    if (!Number.isInteger(this.maxDepth) || this.maxDepth < 0) {
      throw new RangeError(`bencode: maxDepth must be a non-negative integer, got ${options.maxDepth}`)
    }
  }

  /**
   * The error to throw for `error`, caught while decoding. Nothing but `BencodeDecodeError` may
   * escape for any input, so the engine's RangeErrors are translated: a call-stack overflow (a
   * `maxDepth` set higher than the stack allows) and a container past the engine's size limits
   * (a `Map` holds at most 2^24 entries in V8).
   */
  failure(error: unknown): unknown {
    if (!(error instanceof RangeError)) return error
    return /call stack/i.test(error.message)
      ? new BencodeDecodeError('DEPTH_EXCEEDED', this.pos, 'nesting too deep for the call stack')
      : new BencodeDecodeError('LIMIT_EXCEEDED', this.pos, `engine limit reached (${error.message})`)
  }

  /** The input must end where the value ends, unless lenient. */
  end(): void {
    if (this.strict && this.pos !== this.bytes.length) {
      throw new BencodeDecodeError('TRAILING_BYTES', this.pos, 'unexpected data after the value')
    }
  }

  /** Decodes the value at `pos`; `depth` is the number of containers around it. */
  value(depth: number): BencodeValue {
    const byte = this.peek()
    if (byte >= ZERO && byte <= NINE) return this.string()
    if (byte === I) return this.integer()
    if (byte === L) {
      this.enter(depth)
      const list: BencodeValue[] = []
      while (this.peek() !== E) list.push(this.value(depth + 1))
      this.pos++
      return list
    }
    if (byte === D) {
      this.enter(depth)
      const dict: BencodeDict = new Map()
      let previousStart = -1
      let previousEnd = -1
      while (this.peek() !== E) {
        previousStart = this.key(previousStart, previousEnd)
        previousEnd = this.pos
        const key = keyString(this.bytes, previousStart, previousEnd)
        const value = this.value(depth + 1)
        if (this.strict || !dict.has(key)) dict.set(key, value)
      }
      this.pos++
      return dict
    }
    throw this.unexpected(byte)
  }

  /** Checks the value at `pos` as `value` would, without building it. */
  skip(depth: number): void {
    const byte = this.peek()
    if (byte >= ZERO && byte <= NINE) {
      this.stringPayload()
    } else if (byte === I) {
      this.integer()
    } else if (byte === L || byte === D) {
      this.enter(depth)
      let previousStart = -1
      let previousEnd = -1
      while (this.peek() !== E) {
        if (byte === D) {
          previousStart = this.key(previousStart, previousEnd)
          previousEnd = this.pos
        }
        this.skip(depth + 1)
      }
      this.pos++
    } else {
      throw this.unexpected(byte)
    }
  }

  peek(): number {
    const byte = this.bytes[this.pos]
    if (byte === undefined)
      throw new BencodeDecodeError('UNEXPECTED_END', this.pos, 'unexpected end of input')
    return byte
  }

  /** Steps into a list or dictionary at `pos`, which sits inside `depth` containers. */
  enter(depth: number): void {
    if (depth >= this.maxDepth) {
      throw new BencodeDecodeError('DEPTH_EXCEEDED', this.pos, `nesting deeper than ${this.maxDepth}`)
    }
    this.pos++
  }

  private unexpected(byte: number): BencodeDecodeError {
    return new BencodeDecodeError(
      'UNEXPECTED_BYTE',
      this.pos,
      `unexpected byte 0x${hex(byte)}, expected a value`,
    )
  }

  private integer(): number | bigint {
    const bytes = this.bytes
    const start = this.pos++
    const negative = bytes[this.pos] === MINUS
    if (negative) this.pos++
    const firstDigit = this.pos
    let value = 0
    while (true) {
      const byte = this.peek()
      if (byte === E) break
      if (byte < ZERO || byte > NINE) {
        throw new BencodeDecodeError('INVALID_INTEGER', this.pos, `unexpected byte 0x${hex(byte)} in integer`)
      }
      value = value * 10 + (byte - ZERO)
      if (++this.pos - firstDigit > MAX_INTEGER_DIGITS) {
        throw new BencodeDecodeError(
          'INTEGER_TOO_LONG',
          start,
          `integer has more than ${MAX_INTEGER_DIGITS} digits`,
        )
      }
    }
    const digits = this.pos - firstDigit
    if (digits === 0) throw new BencodeDecodeError('INVALID_INTEGER', start, 'integer has no digits')
    if (this.strict) {
      if (digits > 1 && bytes[firstDigit] === ZERO) {
        throw new BencodeDecodeError('LEADING_ZERO', firstDigit, 'integer has a leading zero')
      }
      if (negative && value === 0)
        throw new BencodeDecodeError('NEGATIVE_ZERO', start, 'integer is negative zero')
    }
    this.pos++ // 'e'
    // The float accumulation is exact while the true value is a safe integer (every partial value is
    // smaller), and a value past 2^53 − 1 can never round back below it.
    if (value <= Number.MAX_SAFE_INTEGER) return negative && value !== 0 ? -value : value
    const big = BigInt(binaryString(bytes, firstDigit, firstDigit + digits))
    return negative ? -big : big
  }

  /** Reads `<length>:` and skips the payload; returns the payload's start. */
  private stringPayload(): number {
    const bytes = this.bytes
    const first = this.pos
    const remaining = bytes.length - first
    let length = 0
    while (true) {
      const byte = this.peek()
      if (byte === COLON) break
      if (byte < ZERO || byte > NINE) {
        throw new BencodeDecodeError(
          'INVALID_LENGTH',
          this.pos,
          `unexpected byte 0x${hex(byte)} in string length`,
        )
      }
      length = length * 10 + (byte - ZERO)
      // Fail before the number can grow past what the input could possibly hold.
      if (length > remaining) {
        throw new BencodeDecodeError('UNEXPECTED_END', first, 'string length exceeds the input')
      }
      this.pos++
    }
    if (this.strict && this.pos - first > 1 && bytes[first] === ZERO) {
      throw new BencodeDecodeError('LEADING_ZERO', first, 'string length has a leading zero')
    }
    const start = ++this.pos
    if (length > bytes.length - start) {
      throw new BencodeDecodeError('UNEXPECTED_END', first, 'string length exceeds the input')
    }
    this.pos = start + length
    return start
  }

  private string(): Uint8Array {
    const start = this.stringPayload()
    return this.bytes.subarray(start, this.pos)
  }

  /**
   * Reads a dictionary key and returns its payload start (the payload ends at `pos`). In strict mode
   * the key must sort after the previous key's payload `[previousStart, previousEnd)` (−1 for none).
   */
  key(previousStart: number, previousEnd: number): number {
    const keyOffset = this.pos
    const byte = this.peek()
    if (byte < ZERO || byte > NINE) {
      throw new BencodeDecodeError('UNEXPECTED_BYTE', keyOffset, 'dictionary key is not a byte string')
    }
    const start = this.stringPayload()
    if (this.strict && previousStart >= 0) {
      const order = compareBytes(
        this.bytes,
        previousStart,
        previousEnd - previousStart,
        start,
        this.pos - start,
      )
      if (order === 0) throw new BencodeDecodeError('DUPLICATE_KEY', keyOffset, 'duplicate dictionary key')
      if (order > 0)
        throw new BencodeDecodeError('UNSORTED_KEYS', keyOffset, 'dictionary keys are not sorted')
    }
    return start
  }
}

/**
 * Recently built short keys, by a hash of their bytes. Real dictionaries repeat a few keys thousands
 * of times (`length`, `path`); handing back the same string skips one allocation per character.
 * Holds only immutable strings, so sharing it between decodes cannot change any result.
 */
const keyCache: string[] = new Array<string>(512).fill('')

function keyString(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start
  if (length > 32) return binaryString(bytes, start, end)
  let hash = length
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + bytes[i]!) | 0
  const slot = hash & (keyCache.length - 1)
  const cached = keyCache[slot]!
  if (cached.length === length) {
    let i = 0
    while (i < length && cached.charCodeAt(i) === bytes[start + i]) i++
    if (i === length) return cached
  }
  const key = binaryString(bytes, start, end)
  keyCache[slot] = key
  return key
}

function compareBytes(bytes: Uint8Array, a: number, aLength: number, b: number, bLength: number): number {
  const n = Math.min(aLength, bLength)
  for (let i = 0; i < n; i++) {
    const diff = bytes[a + i]! - bytes[b + i]!
    if (diff !== 0) return diff
  }
  return aLength - bLength
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0')
}

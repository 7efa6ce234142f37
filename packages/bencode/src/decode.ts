// A single-pass recursive-descent decoder over a Uint8Array. Byte strings are returned as views into
// the input (no copy); every length is checked against the remaining input before it is used.
import { BencodeDecodeError } from './errors.js'
import { bytesToKey } from './text.js'
import type { BencodeDict, BencodeValue } from './value.js'

export interface DecodeOptions {
  /**
   * Reject what BEP 3 forbids: leading zeros, `-0`, unsorted or duplicate keys, trailing bytes.
   * Default `true`. `false` accepts the non-canonical input real-world torrents sometimes contain
   * (duplicate keys: the first one wins). Malformed input is rejected either way.
   */
  strict?: boolean
  /** Maximum nesting of lists and dictionaries. Default 256. */
  maxDepth?: number
}

const E = 0x65 // 'e'
const I = 0x69 // 'i'
const L = 0x6c // 'l'
const D = 0x64 // 'd'
const COLON = 0x3a
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39

/** Decodes exactly one value that spans the whole input. */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): BencodeValue {
  const decoder = new Decoder(bytes, options)
  const value = decoder.value(0)
  if (decoder.pos !== bytes.length && decoder.strict) {
    throw new BencodeDecodeError('TRAILING_BYTES', decoder.pos, 'unexpected data after the value')
  }
  return value
}

/**
 * Decodes the value at the start of `bytes` and says how many bytes it took, leaving the rest alone.
 * For framings where raw data follows a bencoded header (BEP 9 `ut_metadata` data messages).
 */
export function decodePrefix(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): { value: BencodeValue; length: number } {
  const decoder = new Decoder(bytes, options)
  const value = decoder.value(0)
  return { value, length: decoder.pos }
}

class Decoder {
  pos = 0
  readonly strict: boolean
  private readonly maxDepth: number

  constructor(
    private readonly bytes: Uint8Array,
    options: DecodeOptions,
  ) {
    this.strict = options.strict ?? true
    this.maxDepth = options.maxDepth ?? 256
  }

  value(depth: number): BencodeValue {
    const byte = this.peek()
    if (byte === I) return this.integer()
    if (byte >= ZERO && byte <= NINE) return this.string()
    if (byte === L) return this.list(depth + 1)
    if (byte === D) return this.dict(depth + 1)
    throw new BencodeDecodeError(
      'UNEXPECTED_BYTE',
      this.pos,
      `unexpected byte 0x${hex(byte)}, expected a value`,
    )
  }

  private peek(): number {
    const byte = this.bytes[this.pos]
    if (byte === undefined)
      throw new BencodeDecodeError('UNEXPECTED_END', this.pos, 'unexpected end of input')
    return byte
  }

  private integer(): number | bigint {
    const start = ++this.pos
    const bytes = this.bytes
    let negative = false
    if (bytes[this.pos] === MINUS) {
      negative = true
      this.pos++
    }
    const firstDigit = this.pos
    let value = 0
    while (true) {
      const byte = this.peek()
      if (byte === E) break
      if (byte < ZERO || byte > NINE) {
        throw new BencodeDecodeError('INVALID_INTEGER', this.pos, `unexpected byte 0x${hex(byte)} in integer`)
      }
      value = value * 10 + (byte - ZERO)
      this.pos++
    }
    const digits = this.pos - firstDigit
    if (digits === 0) throw new BencodeDecodeError('INVALID_INTEGER', start, 'integer has no digits')
    if (this.strict && digits > 1 && bytes[firstDigit] === ZERO) {
      throw new BencodeDecodeError('LEADING_ZERO', firstDigit, 'integer has a leading zero')
    }
    if (this.strict && negative && value === 0) {
      throw new BencodeDecodeError('NEGATIVE_ZERO', start, 'integer is negative zero')
    }
    this.pos++ // 'e'
    // Up to 15 digits the float accumulation above is exact; beyond, parse the digits as a bigint.
    if (digits <= 15) return negative && value !== 0 ? -value : value
    let big = BigInt(latin1(bytes, firstDigit, firstDigit + digits))
    if (negative) big = -big
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big
  }

  /** Reads `<length>:` and returns the start of the payload and its length, checked against the input. */
  private stringHeader(): [start: number, length: number] {
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
    if (start + length > bytes.length) {
      throw new BencodeDecodeError('UNEXPECTED_END', first, 'string length exceeds the input')
    }
    this.pos = start + length
    return [start, length]
  }

  private string(): Uint8Array {
    const [start, length] = this.stringHeader()
    return this.bytes.subarray(start, start + length)
  }

  private list(depth: number): BencodeValue[] {
    this.checkDepth(depth)
    this.pos++ // 'l'
    const list: BencodeValue[] = []
    while (this.peek() !== E) list.push(this.value(depth))
    this.pos++
    return list
  }

  private dict(depth: number): BencodeDict {
    this.checkDepth(depth)
    this.pos++ // 'd'
    const dict: BencodeDict = new Map()
    let previousStart = -1
    let previousLength = 0
    while (true) {
      const byte = this.peek()
      if (byte === E) break
      const keyOffset = this.pos
      if (byte < ZERO || byte > NINE) {
        throw new BencodeDecodeError('UNEXPECTED_BYTE', keyOffset, 'dictionary key is not a byte string')
      }
      const [start, length] = this.stringHeader()
      if (this.strict && previousStart >= 0) {
        const order = compareBytes(this.bytes, previousStart, previousLength, start, length)
        if (order === 0) throw new BencodeDecodeError('DUPLICATE_KEY', keyOffset, 'duplicate dictionary key')
        if (order > 0)
          throw new BencodeDecodeError('UNSORTED_KEYS', keyOffset, 'dictionary keys are not sorted')
      }
      previousStart = start
      previousLength = length
      const key = bytesToKey(this.bytes.subarray(start, start + length))
      const value = this.value(depth)
      if (!dict.has(key)) dict.set(key, value)
    }
    this.pos++
    return dict
  }

  private checkDepth(depth: number): void {
    if (depth > this.maxDepth) {
      throw new BencodeDecodeError('DEPTH_EXCEEDED', this.pos, `nesting deeper than ${this.maxDepth}`)
    }
  }
}

function compareBytes(bytes: Uint8Array, a: number, aLength: number, b: number, bLength: number): number {
  const n = Math.min(aLength, bLength)
  for (let i = 0; i < n; i++) {
    const diff = bytes[a + i]! - bytes[b + i]!
    if (diff !== 0) return diff
  }
  return aLength - bLength
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = ''
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!)
  return text
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0')
}

// Encoder writing straight into one work buffer, reused between calls; dictionary keys are sorted by
// their raw bytes as BEP 3 requires, so the output is always canonical.
import { BencodeEncodeError } from './errors.js'
import type { BencodeInput } from './value.js'

const utf8 = new TextEncoder()

/** Deeper input is refused (a cycle reaches it too), well before the call stack runs out. */
const MAX_DEPTH = 1024

/** Room for a length prefix: up to 16 digits and `:`. */
const HEADER = 17

/**
 * Encodes a value to canonical bencode. Throws `BencodeEncodeError` for values bencode cannot hold:
 * non-integers and unsafe integer numbers (use a bigint), `null`, booleans, class instances other
 * than `Uint8Array`/`Map`, keys that are not binary strings, nesting deeper than 1024 or cycles.
 */
export function encode(value: BencodeInput): Uint8Array {
  // A getter inside `value` may call encode again: that call gets a buffer of its own.
  const buffer = scratch ?? new Uint8Array(4096)
  scratch = undefined
  const writer = new Writer(buffer)
  try {
    writer.value(value, 0)
    return writer.result()
  } catch (error) {
    if (error instanceof RangeError && error.message.includes('call stack')) {
      throw writer.error('nesting too deep for the call stack')
    }
    throw error
  } finally {
    if (writer.buffer.length <= MAX_SCRATCH) scratch = writer.buffer
  }
}

/**
 * The work buffer, kept between calls: growing a fresh buffer for every call cost more than the
 * encoding itself (large ArrayBuffer allocations are slow). Kept only up to this size.
 */
let scratch: Uint8Array | undefined
const MAX_SCRATCH = 4 * 1024 * 1024

type Entry = [key: unknown, value: BencodeInput | undefined]

class Writer {
  private pos = 0
  /** Keys and indexes down to the value being written; turned into a path only for an error. */
  private readonly trail: (string | number)[] = []

  constructor(public buffer: Uint8Array) {}

  result(): Uint8Array {
    const result = new Uint8Array(this.pos)
    result.set(this.buffer.subarray(0, this.pos))
    return result
  }

  error(message: string): BencodeEncodeError {
    const trail = this.trail
    const step = (s: string | number) => (typeof s === 'number' ? `[${s}]` : `.${s}`)
    // A cycle makes the trail a thousand steps long: keep both ends.
    const path =
      trail.length > 16
        ? `${trail.slice(0, 8).map(step).join('')}…${trail.slice(-8).map(step).join('')}`
        : trail.map(step).join('')
    return new BencodeEncodeError(path, message)
  }

  value(value: BencodeInput, depth: number): void {
    if (typeof value === 'string') {
      this.text(value)
    } else if (value instanceof Uint8Array) {
      this.bytes(value)
    } else if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        throw this.error(`${value} is not a safe integer (use a bigint for large integers)`)
      }
      this.integer(value)
    } else if (typeof value === 'bigint') {
      this.ascii(`i${value}e`)
    } else if (Array.isArray(value)) {
      if (depth >= MAX_DEPTH) throw this.error(`nesting deeper than ${MAX_DEPTH} (or a cycle)`)
      this.byte(0x6c)
      const trail = this.trail
      trail.push(0)
      for (let i = 0; i < value.length; i++) {
        trail[trail.length - 1] = i
        this.value(value[i], depth + 1)
      }
      trail.pop()
      this.byte(0x65)
    } else if (value instanceof Map) {
      this.dict([...value], depth)
    } else if (typeof value === 'object' && value !== null && isPlainObject(value)) {
      this.dict(Object.entries(value), depth)
    } else {
      throw this.error(`${describe(value)} has no bencode form`)
    }
  }

  private dict(entries: Entry[], depth: number): void {
    if (depth >= MAX_DEPTH) throw this.error(`nesting deeper than ${MAX_DEPTH} (or a cycle)`)
    let sorted = true
    for (let i = 0; i < entries.length; i++) {
      const key = entries[i]![0]
      if (typeof key !== 'string') throw this.error(`key ${describe(key)} is not a string`)
      if (i > 0 && (entries[i - 1]![0] as string) >= key) sorted = false
    }
    // Binary-string keys compare by code unit, which is byte order; Map and object keys are unique.
    // Decoded dictionaries arrive sorted already, so the sort is usually skipped.
    if (!sorted) entries.sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1))
    this.byte(0x64)
    const trail = this.trail
    for (let i = 0; i < entries.length; i++) {
      const [key, value] = entries[i] as [string, BencodeInput | undefined]
      if (value === undefined) continue
      trail.push(key)
      this.key(key)
      this.value(value, depth + 1)
      trail.pop()
    }
    this.byte(0x65)
  }

  private key(key: string): void {
    const length = key.length
    this.ensure(length + HEADER)
    this.length(length)
    const buffer = this.buffer
    let pos = this.pos
    for (let i = 0; i < length; i++) {
      const code = key.charCodeAt(i)
      if (code > 0xff) {
        throw this.error(`key ${JSON.stringify(key)} is not a binary string (use utf8Key())`)
      }
      buffer[pos++] = code
    }
    this.pos = pos
  }

  private bytes(bytes: Uint8Array): void {
    this.ensure(bytes.length + HEADER)
    this.length(bytes.length)
    this.buffer.set(bytes, this.pos)
    this.pos += bytes.length
  }

  private text(text: string): void {
    const length = text.length
    const size = utf8Length(text)
    this.ensure(size + HEADER)
    this.length(size)
    if (size === length) {
      // All ASCII: a plain loop beats TextEncoder's call overhead for the short strings that dominate.
      const buffer = this.buffer
      let pos = this.pos
      for (let i = 0; i < length; i++) buffer[pos++] = text.charCodeAt(i)
      this.pos = pos
    } else {
      this.pos += utf8.encodeInto(text, this.buffer.subarray(this.pos)).written
    }
  }

  /** Writes a safe integer as `i<digits>e` without building a string. */
  private integer(value: number): void {
    this.ensure(19)
    const buffer = this.buffer
    buffer[this.pos++] = 0x69
    if (value < 0) {
      buffer[this.pos++] = 0x2d
      value = -value
    }
    this.digits(value)
    buffer[this.pos++] = 0x65
  }

  /** Writes `<length>:`; the caller has ensured room. */
  private length(length: number): void {
    this.digits(length)
    this.buffer[this.pos++] = 0x3a
  }

  /** Writes a non-negative safe integer in decimal; the caller has ensured room. */
  private digits(value: number): void {
    const buffer = this.buffer
    if (value < 10) {
      buffer[this.pos++] = 0x30 + value
      return
    }
    let count = 1
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) count++
    let pos = this.pos + count
    this.pos = pos
    while (value >= 10) {
      const next = Math.floor(value / 10)
      buffer[--pos] = 0x30 + (value - next * 10)
      value = next
    }
    buffer[--pos] = 0x30 + value
  }

  private ascii(text: string): void {
    this.ensure(text.length)
    for (let i = 0; i < text.length; i++) this.buffer[this.pos++] = text.charCodeAt(i)
  }

  private byte(byte: number): void {
    this.ensure(1)
    this.buffer[this.pos++] = byte
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra
    if (needed <= this.buffer.length) return
    let size = this.buffer.length * 2
    while (size < needed) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.buffer.subarray(0, this.pos))
    this.buffer = grown
  }
}

/** Bytes of `text` in UTF-8 as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  const length = text.length
  let size = length
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) continue
    if (code < 0x800) {
      size += 1
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        size += 2 // four bytes for two code units
        i++
      } else {
        size += 2
      }
    } else {
      size += 2
    }
  }
  return size
}

function isPlainObject(value: object): value is { readonly [key: string]: BencodeInput | undefined } {
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  if (typeof value === 'string') return JSON.stringify(value)
  return typeof value
}

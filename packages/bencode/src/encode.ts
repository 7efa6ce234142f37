// Encoder writing into one growing buffer; dictionary keys are sorted by their raw bytes as BEP 3 requires.
import { BencodeEncodeError } from './errors.js'
import type { BencodeInput } from './value.js'

const utf8 = new TextEncoder()

/** Encodes a value to canonical bencode. Throws `BencodeEncodeError` for values bencode cannot hold. */
export function encode(value: BencodeInput): Uint8Array {
  const writer = new Writer()
  writer.value(value, '', 0)
  return writer.result()
}

const MAX_DEPTH = 1024

class Writer {
  private buffer = new Uint8Array(1024)
  private pos = 0

  result(): Uint8Array {
    return this.buffer.slice(0, this.pos)
  }

  value(value: BencodeInput, path: string, depth: number): void {
    if (depth > MAX_DEPTH) throw new BencodeEncodeError(path, `nesting deeper than ${MAX_DEPTH}`)
    if (value instanceof Uint8Array) {
      this.bytes(value)
    } else if (typeof value === 'string') {
      this.text(value)
    } else if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        throw new BencodeEncodeError(path, `${value} is not a safe integer (use a bigint for large integers)`)
      }
      this.integer(value)
    } else if (typeof value === 'bigint') {
      this.integer(value)
    } else if (Array.isArray(value)) {
      this.byte(0x6c)
      for (let i = 0; i < value.length; i++) this.value(value[i], `${path}[${i}]`, depth + 1)
      this.byte(0x65)
    } else if (typeof value === 'object' && value !== null) {
      const entries = value instanceof Map ? [...value] : Object.entries(value)
      this.dict(entries as [string, BencodeInput | undefined][], path, depth)
    } else {
      throw new BencodeEncodeError(path, `${value === null ? 'null' : typeof value} has no bencode form`)
    }
  }

  private dict(entries: [string, BencodeInput | undefined][], path: string, depth: number): void {
    const present = entries.filter((entry): entry is [string, BencodeInput] => entry[1] !== undefined)
    // Binary-string keys compare by code unit, which is exactly byte order.
    present.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    this.byte(0x64)
    for (let i = 0; i < present.length; i++) {
      const [key, value] = present[i]!
      if (i > 0 && present[i - 1]![0] === key)
        throw new BencodeEncodeError(path, `duplicate key ${JSON.stringify(key)}`)
      this.key(key, path)
      this.value(value, `${path}.${key}`, depth + 1)
    }
    this.byte(0x65)
  }

  private key(key: string, path: string): void {
    this.ascii(`${key.length}:`)
    this.ensure(key.length)
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i)
      if (code > 0xff) {
        throw new BencodeEncodeError(
          path,
          `key ${JSON.stringify(key)} is not a binary string (use utf8Key())`,
        )
      }
      this.buffer[this.pos++] = code
    }
  }

  private bytes(bytes: Uint8Array): void {
    this.ascii(`${bytes.length}:`)
    this.ensure(bytes.length)
    this.buffer.set(bytes, this.pos)
    this.pos += bytes.length
  }

  private text(text: string): void {
    // Short ASCII text (most keys and values) skips TextEncoder's allocation.
    if (text.length < 64 && isAscii(text)) {
      this.ascii(`${text.length}:`)
      this.ascii(text)
      return
    }
    this.bytes(utf8.encode(text))
  }

  private integer(value: number | bigint): void {
    this.ascii(`i${value}e`)
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

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

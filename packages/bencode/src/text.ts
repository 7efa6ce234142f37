// Conversions between bytes, UTF-8 text and binary-string dictionary keys.
import { BencodeEncodeError } from './errors.js'
import type { BencodeDict, BencodeValue } from './value.js'

// `ignoreBOM` keeps a leading U+FEFF: by default TextDecoder silently drops it, losing three bytes.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true })
const strictUtf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Encoder = new TextEncoder()

/** Reads a byte string as UTF-8 text (invalid sequences become U+FFFD). */
export function bytesToUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes)
}

/** Reads a byte string as UTF-8 text, or returns `undefined` if it is not valid UTF-8. */
export function bytesToUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8Decoder.decode(bytes)
  } catch {
    return undefined
  }
}

export function utf8ToBytes(text: string): Uint8Array {
  return utf8Encoder.encode(text)
}

/** The binary-string key for raw bytes (one char per byte). */
export function bytesToKey(bytes: Uint8Array): string {
  return binaryString(bytes, 0, bytes.length)
}

/** One char per byte of `bytes[start, end)`. Internal: the decoder calls it without a subarray. */
export function binaryString(bytes: Uint8Array, start: number, end: number): string {
  // Short keys dominate real torrents; a plain loop beats any call with setup cost for them.
  if (end - start <= 64) {
    let key = ''
    for (let i = start; i < end; i++) key += String.fromCharCode(bytes[i]!)
    return key
  }
  let key = ''
  for (let i = start; i < end; i += 8192) {
    key += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(i + 8192, end)) as unknown as number[])
  }
  return key
}

/** The raw bytes of a binary-string key. */
export function keyToBytes(key: string): Uint8Array {
  const bytes = new Uint8Array(key.length)
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i)
    if (code > 0xff) {
      throw new BencodeEncodeError(
        '',
        `key has a character above U+00FF at ${i}: not a binary string (use utf8Key())`,
      )
    }
    bytes[i] = code
  }
  return bytes
}

/** The binary-string key for a text key: `utf8Key('naïve')` finds a UTF-8 encoded key in a decoded dict. */
export function utf8Key(text: string): string {
  return bytesToKey(utf8ToBytes(text))
}

/** The text of a binary-string key read as UTF-8. */
export function keyToUtf8(key: string): string {
  return bytesToUtf8(keyToBytes(key))
}

/**
 * JSON text for a decoded value, on one line: byte strings and keys read as UTF-8, integers exact
 * (bigints as plain digits), dictionary order kept. Used by `bt decode`; lossy for binary data by design.
 */
export function toJson(value: BencodeValue): string {
  if (value instanceof Uint8Array) return JSON.stringify(bytesToUtf8(value))
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`
  const entries: string[] = []
  for (const [key, inner] of value as BencodeDict)
    entries.push(`${JSON.stringify(keyToUtf8(key))}:${toJson(inner)}`)
  return `{${entries.join(',')}}`
}

// The public decoding entry points; the parsing itself is in decoder.ts.
import { type DecodeOptions, Decoder } from './decoder.js'
import type { BencodeValue } from './value.js'

/** Decodes exactly one value that spans the whole input (trailing bytes are allowed only when lenient). */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): BencodeValue {
  const decoder = new Decoder(bytes, options)
  let value: BencodeValue
  try {
    value = decoder.value(0)
  } catch (error) {
    throw decoder.failure(error)
  }
  decoder.end()
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
  try {
    return { value: decoder.value(0), length: decoder.pos }
  } catch (error) {
    throw decoder.failure(error)
  }
}

// Info hashes as text: the 40-digit hex form everyone prints and the 32-character base32 form some
// magnet links carry.
import { createHash } from 'node:crypto'
import { InvalidInfoHashError } from './errors.js'

const HEX = '0123456789abcdef'
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** 40 lowercase hex digits for a 20-byte info hash. */
export function infoHashToHex(bytes: Uint8Array): string {
  if (bytes.length !== 20) throw new RangeError(`an info hash has 20 bytes, got ${bytes.length}`)
  let text = ''
  for (const byte of bytes) text += HEX[byte >> 4]! + HEX[byte & 15]!
  return text
}

/** Reads a v1 info hash written as 40 hex digits or 32 base32 characters (either case). */
export function parseInfoHash(text: string): Uint8Array {
  if (text.length === 40 && /^[0-9a-f]{40}$/i.test(text)) return hexDecode(text)
  if (text.length === 32 && /^[a-z2-7]{32}$/i.test(text)) return base32Decode(text.toUpperCase())
  throw new InvalidInfoHashError(text)
}

/** SHA-1 of `bytes`, as the info hash of an `info` dictionary. */
export function sha1(bytes: Uint8Array): Uint8Array {
  // Copied out of the Buffer so callers never hold a view into Node's shared allocation pool.
  return new Uint8Array(createHash('sha1').update(bytes).digest())
}

function hexDecode(text: string): Uint8Array {
  const out = new Uint8Array(text.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** RFC 4648 base32 without padding; 32 characters hold exactly 20 bytes. */
function base32Decode(text: string): Uint8Array {
  const out = new Uint8Array((text.length * 5) >> 3)
  let buffer = 0
  let bits = 0
  let at = 0
  for (const char of text) {
    buffer = (buffer << 5) | BASE32.indexOf(char)
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[at++] = (buffer >> bits) & 0xff
    }
  }
  return out
}

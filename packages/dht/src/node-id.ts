// 160-bit node ids and info hashes: XOR distance, shared prefix length, random ids inside a bucket.
import { randomBytes } from 'node:crypto'

export const ID_LENGTH = 20

export function randomNodeId(): Uint8Array {
  return new Uint8Array(randomBytes(ID_LENGTH))
}

export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(ID_LENGTH)
  for (let i = 0; i < ID_LENGTH; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/** Negative when `a` is closer to `target` than `b`, positive when farther, 0 when equal. */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const da = a[i]! ^ target[i]!
    const db = b[i]! ^ target[i]!
    if (da !== db) return da - db
  }
  return 0
}

/** How many leading bits `a` and `b` share (160 when equal). */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const x = a[i]! ^ b[i]!
    if (x !== 0) return i * 8 + Math.clz32(x) - 24
  }
  return ID_LENGTH * 8
}

/** A random id sharing exactly `prefixBits` leading bits with `id` (the next bit differs). */
export function randomIdWithPrefix(id: Uint8Array, prefixBits: number): Uint8Array {
  const out = randomNodeId()
  if (prefixBits >= ID_LENGTH * 8) return Uint8Array.from(id)
  const whole = prefixBits >> 3
  for (let i = 0; i < whole; i++) out[i] = id[i]!
  const bit = prefixBits & 7
  const keep = (0xff << (8 - bit)) & 0xff
  const flip = 0x80 >> bit
  out[whole] = (id[whole]! & keep) | (~id[whole]! & flip) | (out[whole]! & ~(keep | flip) & 0xff)
  return out
}

export function idToHex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')
}

export function idEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

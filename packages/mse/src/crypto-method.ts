// The two crypto methods of MSE's `crypto_provide` / `crypto_select` bit fields, and the padding
// lengths of the handshake.
import { randomBytes, randomInt } from 'node:crypto'

export type CryptoMethod = 'plaintext' | 'rc4'

export const PLAINTEXT_BIT = 0x01
export const RC4_BIT = 0x02
/** The spec's limit for PadA, PadB, PadC and PadD. */
export const MAX_PADDING = 512

export function methodBits(methods: readonly CryptoMethod[]): number {
  let bits = 0
  for (const method of methods) bits |= method === 'rc4' ? RC4_BIT : PLAINTEXT_BIT
  return bits
}

/** The method a single-bit `crypto_select` names, `undefined` for any other value. */
export function methodOf(bits: number): CryptoMethod | undefined {
  if (bits === RC4_BIT) return 'rc4'
  if (bits === PLAINTEXT_BIT) return 'plaintext'
  return undefined
}

/** PadA / PadB: 0–512 random bytes, so the handshake has no fixed length to fingerprint. */
export function randomPadding(): Buffer {
  return randomBytes(randomInt(MAX_PADDING + 1))
}

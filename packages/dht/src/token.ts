// Write tokens (BEP 5): SHA-1 of the querier's IP and a secret rotated every 5 minutes; a token made
// with the previous secret is still accepted, so a token lives 5 to 10 minutes.
import { createHash, randomBytes } from 'node:crypto'
import { ipToBytes } from '@bt/peer-address'

export const TOKEN_ROTATION_MS = 5 * 60_000
const TOKEN_LENGTH = 8

export interface TokenIssuer {
  issue(ip: string): Uint8Array
  verify(ip: string, token: Uint8Array): boolean
}

export function createTokenIssuer(
  init: { now?: () => number; rotationMs?: number; random?: (size: number) => Uint8Array } = {},
): TokenIssuer {
  const now = init.now ?? Date.now
  const rotationMs = init.rotationMs ?? TOKEN_ROTATION_MS
  const random = init.random ?? ((size: number) => new Uint8Array(randomBytes(size)))
  let current = random(16)
  let previous = random(16)
  let rotatedAt = now()

  const rotate = () => {
    const elapsed = now() - rotatedAt
    if (elapsed < rotationMs) return
    // Two or more periods idle: both secrets are stale.
    previous = elapsed >= 2 * rotationMs ? random(16) : current
    current = random(16)
    rotatedAt = now()
  }
  const tokenFor = (ip: Uint8Array, secret: Uint8Array) =>
    new Uint8Array(createHash('sha1').update(ip).update(secret).digest().subarray(0, TOKEN_LENGTH))
  const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i])

  return {
    issue(ip) {
      rotate()
      return tokenFor(ipToBytes(ip) ?? new Uint8Array(0), current)
    },
    verify(ip, token) {
      rotate()
      const bytes = ipToBytes(ip)
      if (!bytes || token.length !== TOKEN_LENGTH) return false
      return equal(tokenFor(bytes, current), token) || equal(tokenFor(bytes, previous), token)
    },
  }
}

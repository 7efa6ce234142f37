// Basic auth for the RPC (as Transmission's `rpc-authentication-required`), compared in constant time,
// with a lock-out per client address after repeated failures so a password cannot be guessed at speed.
import { createHash, timingSafeEqual } from 'node:crypto'

export interface RpcCredentials {
  readonly username: string
  readonly password: string
}

export interface AuthBackoff {
  /** Failures within `windowMs` that lock the address out; default 10. */
  readonly maxFailures?: number
  /** Default 60 000. */
  readonly windowMs?: number
  /** How long a locked-out address gets 429 whatever it sends; default 60 000. */
  readonly lockoutMs?: number
}

export type AuthVerdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'denied' }
  | { readonly kind: 'locked'; readonly retryAfterSeconds: number }

export interface AuthGuard {
  /** Judges one request's `Authorization` header from `client` (its address) at `nowMs`. */
  check(authorization: string | undefined, client: string, nowMs: number): AuthVerdict
}

/** Addresses tracked at once; the oldest is forgotten beyond this, so the table stays bounded. */
const MAX_TRACKED = 4096

interface Failures {
  times: number[]
  lockedUntil: number
}

export function createAuthGuard(credentials: RpcCredentials, backoff: AuthBackoff = {}): AuthGuard {
  const maxFailures = backoff.maxFailures ?? 10
  const windowMs = backoff.windowMs ?? 60_000
  const lockoutMs = backoff.lockoutMs ?? 60_000
  const expected = digest(`${credentials.username}:${credentials.password}`)
  const clients = new Map<string, Failures>()

  return {
    check(authorization, client, nowMs) {
      const record = clients.get(client)
      if (record !== undefined && record.lockedUntil > nowMs) {
        return { kind: 'locked', retryAfterSeconds: Math.ceil((record.lockedUntil - nowMs) / 1000) }
      }
      const given = basicCredentials(authorization)
      // Hashing first gives both sides one length, so timingSafeEqual says nothing about the password's.
      if (given !== undefined && timingSafeEqual(digest(given), expected)) {
        clients.delete(client)
        return { kind: 'ok' }
      }
      // A request without credentials is a client asking how to authenticate, not a guess.
      if (given === undefined) return { kind: 'denied' }
      const failures = record ?? { times: [], lockedUntil: 0 }
      failures.times = failures.times.filter((t) => t > nowMs - windowMs)
      failures.times.push(nowMs)
      if (failures.times.length >= maxFailures) {
        failures.times = []
        failures.lockedUntil = nowMs + lockoutMs
      }
      clients.delete(client)
      clients.set(client, failures)
      if (clients.size > MAX_TRACKED) {
        const oldest = clients.keys().next().value
        if (oldest !== undefined) clients.delete(oldest)
      }
      return { kind: 'denied' }
    },
  }
}

/** `user:pass` from `Basic <base64>`, or undefined when the header is absent or not Basic. */
export function basicCredentials(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization)
  if (match?.[1] === undefined) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  return decoded.includes(':') ? decoded : undefined
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

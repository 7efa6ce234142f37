// DNS rebinding defence (DESIGN §6): a page on evil.example whose name an attacker re-points at
// 127.0.0.1 reaches our socket, but its requests still carry `Host: evil.example`. So only Host names
// that cannot be an attacker's are served. Any port is accepted with an allowed name: a port forward
// (`ssh -L 8080:127.0.0.1:…`) legitimately changes it, and a port gives a rebinding page nothing.
import { isIP } from 'node:net'

const ALWAYS_ALLOWED = ['localhost', '127.0.0.1', '::1']

export interface HostCheck {
  /** Whether a request with this `Host` header may be served. */
  allows(host: string | undefined): boolean
}

/**
 * `boundAddress` is the address the server listens on. When it is a wildcard (`0.0.0.0`, `::`) the
 * machine's addresses are all "the bound address", so any IP literal is accepted: DNS rebinding
 * needs a name, and an IP literal in `Host` is never one.
 */
export function createHostCheck(boundAddress: string, allowedHosts: readonly string[] = []): HostCheck {
  const allowed = new Set([...ALWAYS_ALLOWED, boundAddress, ...allowedHosts].map(normalizeName))
  const wildcard = boundAddress === '0.0.0.0' || boundAddress === '::'
  return {
    allows(host) {
      if (host === undefined) return false
      const name = hostName(host)
      if (name === undefined) return false
      return allowed.has(name) || (wildcard && isIP(name) !== 0)
    },
  }
}

/** The name part of a Host header (`[::1]:8080` → `::1`), lower-cased, or undefined if it is malformed. */
export function hostName(host: string): string | undefined {
  let name: string
  let rest: string
  if (host.startsWith('[')) {
    const close = host.indexOf(']')
    if (close < 0) return undefined
    name = host.slice(1, close)
    if (isIP(name) !== 6) return undefined
    rest = host.slice(close + 1)
  } else {
    const colon = host.indexOf(':')
    name = colon < 0 ? host : host.slice(0, colon)
    rest = colon < 0 ? '' : host.slice(colon)
  }
  if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined
  if (name === '') return undefined
  return name.toLowerCase()
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase()
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower
}

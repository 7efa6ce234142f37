// The address of a peer as trackers and PEX hand them out, and the compact binary forms BEP 23
// (6 bytes: IPv4 + port) and BEP 7 (18 bytes: IPv6 + port) use on the wire.
import { isIP } from 'node:net'
import { PeerAddressError } from './errors.js'
import { type AddressFamily, ipFromBytes, parseIp } from './ip.js'

export interface PeerAddress {
  /** Dotted IPv4 (`1.2.3.4`) or canonical IPv6 (`::1`), without brackets. */
  host: string
  port: number
}

const ENTRY_SIZE = { 4: 6, 6: 18 } as const

/**
 * Decodes a compact peer list. A trailing partial entry is an error in `strict` mode (the default)
 * and ignored otherwise; entries with port 0 are dropped (nobody listens there).
 */
export function decodeCompactPeers(
  bytes: Uint8Array,
  family: AddressFamily,
  options: { strict?: boolean } = {},
): PeerAddress[] {
  const size = ENTRY_SIZE[family]
  if (bytes.length % size !== 0 && (options.strict ?? true)) {
    throw new PeerAddressError(
      `compact IPv${family} peer list length ${bytes.length} is not a multiple of ${size}`,
    )
  }
  const peers: PeerAddress[] = []
  for (let at = 0; at + size <= bytes.length; at += size) {
    const port = (bytes[at + size - 2]! << 8) | bytes[at + size - 1]!
    if (port === 0) continue
    peers.push({ host: ipFromBytes(bytes, at, family), port })
  }
  return peers
}

/** Encodes peers of one family in compact form; peers of the other family are skipped. */
export function encodeCompactPeers(peers: readonly PeerAddress[], family: AddressFamily): Uint8Array {
  const size = ENTRY_SIZE[family]
  const matching = peers.filter((peer) => isIP(peer.host) === family)
  const out = new Uint8Array(matching.length * size)
  matching.forEach((peer, index) => {
    const at = index * size
    out.set(parseIp(peer.host, family), at)
    out[at + size - 2] = (peer.port >> 8) & 0xff
    out[at + size - 1] = peer.port & 0xff
  })
  return out
}

/** `1.2.3.4:6881` or `[::1]:6881`. */
export function formatPeerAddress(peer: PeerAddress): string {
  return peer.host.includes(':') ? `[${peer.host}]:${peer.port}` : `${peer.host}:${peer.port}`
}

/** Parses `host:port` / `[v6]:port` as typed on a command line; the host must be an IP literal. */
export function parsePeerAddress(text: string): PeerAddress {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text)
  const host = match?.[1]
  const port = Number(match?.[2])
  if (host === undefined || isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PeerAddressError(
      `not a peer address (expected ip:port or [ipv6]:port): ${JSON.stringify(text)}`,
    )
  }
  return { host: isIP(host) === 6 ? ipFromBytes(parseIp(host, 6)) : host, port }
}

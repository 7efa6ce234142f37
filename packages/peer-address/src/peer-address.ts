// The address of a peer as trackers and PEX hand them out, and the compact binary forms BEP 23
// (6 bytes: IPv4 + port) and BEP 7 (18 bytes: IPv6 + port) use on the wire.
import { isIP } from 'node:net'
import { PeerAddressError } from './errors.js'

export interface PeerAddress {
  /** Dotted IPv4 (`1.2.3.4`) or canonical IPv6 (`::1`), without brackets. */
  host: string
  port: number
}

export type AddressFamily = 4 | 6

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
    const host = family === 4 ? formatIPv4(bytes, at) : formatIPv6(bytes, at)
    peers.push({ host, port })
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
    out.set(family === 4 ? parseIPv4(peer.host) : parseIPv6(peer.host), at)
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
  return { host: isIP(host) === 6 ? formatIPv6(parseIPv6(host), 0) : host, port }
}

function formatIPv4(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`
}

/** RFC 5952 text: lowercase, leading zeros dropped, the longest run of two or more zero groups as `::`. */
function formatIPv6(bytes: Uint8Array, at: number): string {
  const groups: number[] = []
  for (let i = 0; i < 8; i++) groups.push((bytes[at + 2 * i]! << 8) | bytes[at + 2 * i + 1]!)
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const text = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((group) => group.toString(16))
      .join(':')
  if (bestStart < 0) return text(0, 8)
  return `${text(0, bestStart)}::${text(bestStart + bestLength, 8)}`
}

function parseIPv4(host: string): Uint8Array {
  return Uint8Array.from(host.split('.').map(Number))
}

function parseIPv6(host: string): Uint8Array {
  let text = host
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4?.[1]) {
    const [a, b, c, d] = parseIPv4(v4[1])
    text = `${text.slice(0, -v4[1].length)}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups]
  const out = new Uint8Array(16)
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16)
    out[2 * i] = value >> 8
    out[2 * i + 1] = value & 0xff
  })
  return out
}

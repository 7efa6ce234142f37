// IP addresses as bytes and as text: the 4- and 16-byte forms that compact peer lists and BEP 10's
// `yourip` carry, RFC 5952 text for IPv6, and the one key per host that a per-IP ban compares.
import { isIP } from 'node:net'
import { PeerAddressError } from './errors.js'

export type AddressFamily = 4 | 6

const IP_SIZE = { 4: 4, 6: 16 } as const

/**
 * The bytes of an IP literal: 4 for IPv4 and for IPv4-mapped IPv6 (`::ffff:1.2.3.4`), 16 for other
 * IPv6; `undefined` for anything else. A zoned address (`fe80::1%eth0`) is `undefined` too: its zone
 * names an interface of one machine and has no byte form, so the bytes alone would name another host.
 */
export function ipToBytes(host: string): Uint8Array | undefined {
  const family = isIP(host)
  if (family === 4) return parseIPv4(host)
  if (family !== 6 || host.includes('%')) return undefined
  const bytes = parseIPv6(host)
  return isMapped(bytes, 0) ? bytes.slice(12) : bytes
}

/**
 * The text of the address at `offset`: dotted IPv4, or RFC 5952 IPv6 (lowercase, no leading zeros, the
 * first longest run of two or more zero groups as `::`, IPv4-mapped addresses as `::ffff:1.2.3.4`).
 * Without `family`, the bytes from `offset` to the end must be exactly 4 or 16.
 * @throws {PeerAddressError} when the bytes from `offset` on do not hold an address of the family
 */
export function ipFromBytes(bytes: Uint8Array, offset = 0, family?: AddressFamily): string {
  const remaining = bytes.length - offset
  const resolved = family ?? (remaining === 4 ? 4 : remaining === 16 ? 6 : undefined)
  if (resolved === undefined || !Number.isInteger(offset) || offset < 0 || remaining < IP_SIZE[resolved]) {
    throw new PeerAddressError(
      `no ${resolved === undefined ? 'IP' : `IPv${resolved}`} address at offset ${offset} of ${bytes.length} bytes`,
    )
  }
  if (resolved === 4) return formatIPv4(bytes, offset)
  return isMapped(bytes, offset) ? `::ffff:${formatIPv4(bytes, offset + 12)}` : formatIPv6(bytes, offset)
}

/**
 * The one text per host that a per-IP ban compares: dotted IPv4, IPv4-mapped IPv6 as dotted IPv4,
 * other IPv6 in RFC 5952 form; `undefined` if `host` is not an IP literal. A zone index is dropped
 * (`fe80::1%eth0` is `fe80::1`) so that naming the interface differently never escapes a ban.
 */
export function canonicalIp(host: string): string | undefined {
  const family = isIP(host)
  if (family === 4) return host
  if (family !== 6) return undefined
  const bytes = parseIPv6(host)
  return isMapped(bytes, 0) ? formatIPv4(bytes, 12) : formatIPv6(bytes, 0)
}

/** The bytes of a host that `isIP` says is of `family`; a zone index is ignored. */
export function parseIp(host: string, family: AddressFamily): Uint8Array {
  return family === 4 ? parseIPv4(host) : parseIPv6(host)
}

function isMapped(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 10; i++) if (bytes[at + i] !== 0) return false
  return bytes[at + 10] === 0xff && bytes[at + 11] === 0xff
}

function formatIPv4(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`
}

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
  const zone = host.indexOf('%')
  let text = zone < 0 ? host : host.slice(0, zone)
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

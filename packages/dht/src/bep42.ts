// BEP 42 secure node ids: the first 21 bits of an id are bound to the node's external IP by CRC32-C, so a
// host cannot place itself next to any target it likes. Local and private addresses are exempt (BEP 42).
import { randomBytes } from 'node:crypto'
import { ipToBytes } from '@bt/peer-address'

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC32-C (Castagnoli), as BEP 42 uses it. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff]
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff]

function prefixCrc(ip: Uint8Array, rand: number): number {
  const mask = ip.length === 4 ? V4_MASK : V6_MASK
  const masked = new Uint8Array(mask.length)
  for (let i = 0; i < mask.length; i++) masked[i] = ip[i]! & mask[i]!
  masked[0] = masked[0]! | ((rand & 7) << 5)
  return crc32c(masked)
}

/**
 * A node id valid for `ip` (text): 21 bits from the CRC, the last byte `rand`, the rest random.
 * `rand` defaults to a random byte.
 */
export function secureNodeId(ip: string, rand = randomBytes(1)[0]!): Uint8Array {
  const bytes = ipToBytes(ip)
  if (!bytes) throw new TypeError(`not an IP address: ${ip}`)
  const crc = prefixCrc(bytes, rand)
  const id = new Uint8Array(randomBytes(20))
  id[0] = (crc >>> 24) & 0xff
  id[1] = (crc >>> 16) & 0xff
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 0x07)
  id[19] = rand & 0xff
  return id
}

/** Whether `id` satisfies BEP 42 for `ip`; exempt addresses always do. */
export function isSecureNodeId(id: Uint8Array, ip: string): boolean {
  if (isBep42Exempt(ip)) return true
  const bytes = ipToBytes(ip)
  if (!bytes || id.length !== 20) return false
  const crc = prefixCrc(bytes, id[19]!)
  return (
    id[0] === ((crc >>> 24) & 0xff) &&
    id[1] === ((crc >>> 16) & 0xff) &&
    (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8)
  )
}

/** Loopback, private, link-local and unique-local addresses: BEP 42 neither binds nor checks their ids. */
export function isBep42Exempt(ip: string): boolean {
  const b = ipToBytes(ip)
  if (!b) return true
  if (b.length === 4) {
    const [a = 0, c = 0] = b
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 172 && c >= 16 && c < 32) ||
      (a === 192 && c === 168) ||
      (a === 169 && c === 254) ||
      (a === 100 && c >= 64 && c < 128)
    )
  }
  const first = b[0]!
  const loopback = b.every((byte, i) => byte === (i === 15 ? 1 : 0))
  return loopback || (first & 0xfe) === 0xfc || (first === 0xfe && (b[1]! & 0xc0) === 0x80)
}

/**
 * Our external IP as the nodes we query report it (the `ip` key): an address counts once `votes`
 * distinct nodes (by IP) agree on it. Bounded: it remembers at most 64 candidate addresses.
 */
export function createExternalIpVoter(votes = 3): {
  vote(reported: string, voter: string): string | undefined
} {
  const tallies = new Map<string, Set<string>>()
  let decided: string | undefined
  return {
    vote(reported, voter) {
      if (reported === decided) return undefined
      let voters = tallies.get(reported)
      if (!voters) {
        if (tallies.size >= 64) tallies.clear()
        voters = new Set()
        tallies.set(reported, voters)
      }
      if (voters.size < votes) voters.add(voter)
      if (voters.size < votes) return undefined
      decided = reported
      tallies.clear()
      return reported
    },
  }
}

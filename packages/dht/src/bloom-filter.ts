// BEP 33 scrape bloom filters: 256 bytes, two bit positions per IP taken from SHA-1 of its compact bytes.
import { createHash } from 'node:crypto'
import { ipToBytes } from '@bt/peer-address'

export const BLOOM_BYTES = 256
const BITS = BLOOM_BYTES * 8

export function createBloomFilter(): Uint8Array {
  return new Uint8Array(BLOOM_BYTES)
}

export function bloomInsert(filter: Uint8Array, ip: string): void {
  const bytes = ipToBytes(ip)
  if (!bytes) return
  const hash = createHash('sha1').update(bytes).digest()
  const first = (hash[0]! | (hash[1]! << 8)) % BITS
  const second = (hash[2]! | (hash[3]! << 8)) % BITS
  filter[first >> 3]! |= 1 << (first & 7)
  filter[second >> 3]! |= 1 << (second & 7)
}

/** BEP 33's estimate of how many distinct IPs a filter holds. */
export function bloomEstimate(filter: Uint8Array): number {
  let zeros = 0
  for (const byte of filter) for (let bit = 0; bit < 8; bit++) if ((byte & (1 << bit)) === 0) zeros++
  const clamped = Math.min(Math.max(zeros, 1), BITS - 1)
  return Math.log(clamped / BITS) / (2 * Math.log(1 - 1 / BITS))
}

// The selective-ack bitmask (BEP 29 extension 1): bit i (byte i >> 3, bit i & 7, least significant
// first) says packet ack_nr + 2 + i was received; ack_nr + 1 is by definition missing.

import { seqAdd } from './seq.js'

/** The most bitmask bytes we send: 256 packets past the gap, as much as a receive window holds. */
export const MAX_SACK_BYTES = 32

/**
 * Writes the bitmask for packets after `ack + 1` at `offset` of `target`, asking `received` for
 * `count` packets, rounded up to whole 32-bit words. Returns its length in bytes (0 when `count` ≤ 0).
 */
export function writeSack(
  target: Uint8Array,
  offset: number,
  ack: number,
  count: number,
  received: (seq: number) => boolean,
): number {
  if (count <= 0) return 0
  const bits = Math.min(count, MAX_SACK_BYTES * 8)
  const length = ((bits + 31) >> 5) << 2
  target.fill(0, offset, offset + length)
  for (let i = 0; i < bits; i++) {
    if (received(seqAdd(ack, 2 + i))) target[offset + (i >> 3)]! |= 1 << (i & 7)
  }
  return length
}

/** Whether bit `index` of the bitmask at `offset`/`length` is set. */
export function sackBit(mask: Uint8Array, offset: number, length: number, index: number): boolean {
  const byte = index >> 3
  return byte < length && (mask[offset + byte]! & (1 << (index & 7))) !== 0
}

/** The sequence numbers a bitmask acknowledges (for tests and diagnostics; the hot path walks bits). */
export function sackedSeqs(
  ack: number,
  mask: Uint8Array,
  offset = 0,
  length = mask.length - offset,
): number[] {
  const out: number[] = []
  for (let i = 0; i < length * 8; i++) if (sackBit(mask, offset, length, i)) out.push(seqAdd(ack, 2 + i))
  return out
}

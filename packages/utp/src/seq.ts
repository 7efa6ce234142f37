// 16-bit sequence/ack number arithmetic (BEP 29): numbers wrap at 65536, so "before" means within
// half the space behind, as libtorrent's compare_less_wrap.

export const SEQ_MASK = 0xffff

/** `a + n` modulo 2^16. */
export function seqAdd(a: number, n: number): number {
  return (a + n) & SEQ_MASK
}

/** How far `a` is ahead of `b` (0…65535), modulo 2^16. */
export function seqDistance(a: number, b: number): number {
  return (a - b) & SEQ_MASK
}

/** True when `a` comes strictly before `b` in wrapped order. */
export function seqLess(a: number, b: number): boolean {
  const d = (b - a) & SEQ_MASK
  return d !== 0 && d < 0x8000
}

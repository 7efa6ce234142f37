// BEP 15 retransmission: wait 15·2^n seconds for an answer, then resend with n + 1, up to n = 8.
// A pure function so the schedule can be checked without sockets or clocks.

export const DEFAULT_RETRANSMIT_BASE_MS = 15_000
/** BEP 15's largest exponent: the ninth send waits 15·2^8 s = 3840 s. */
export const MAX_RETRANSMITS = 8

/**
 * How long to wait for an answer to send number `attempt` (0 for the first send, 1 for the first
 * retransmission…): `baseMs · 2^attempt`, the exponent clamped to [0, 8].
 */
export function retransmitTimeoutMs(attempt: number, baseMs: number = DEFAULT_RETRANSMIT_BASE_MS): number {
  if (!Number.isFinite(baseMs) || baseMs <= 0)
    throw new RangeError(`retransmit base must be > 0, got ${baseMs}`)
  if (Number.isNaN(attempt)) throw new RangeError('retransmit attempt must be a number, got NaN')
  const exponent = Math.min(Math.max(Math.floor(attempt), 0), MAX_RETRANSMITS)
  return baseMs * 2 ** exponent
}

// How long to wait before retrying a tracker that failed `failures` times in a row: exponential,
// capped, with jitter so a fleet of clients that lost the same tracker does not return in lockstep.

export interface BackoffOptions {
  /** Delay after the first failure. Default 15 s. */
  baseMs?: number
  /** Upper bound. Default 30 min. */
  maxMs?: number
  /** Fraction of the delay randomised away (0–1). Default 0.2. */
  jitter?: number
}

/** `random` is a number in [0, 1) (injected so tests are deterministic). */
export function trackerRetryDelayMs(
  failures: number,
  options: BackoffOptions = {},
  random = Math.random(),
): number {
  const base = options.baseMs ?? 15_000
  const max = options.maxMs ?? 30 * 60_000
  const jitter = options.jitter ?? 0.2
  if (failures <= 0) return 0
  const delay = Math.min(max, base * 2 ** Math.min(failures - 1, 30))
  return Math.round(delay * (1 - jitter * random))
}

// One-way delay from the peer's timestamp_difference samples (BEP 29, LEDBAT): the base delay is the
// minimum over the last 13 minutes, kept as one-minute buckets so it can rise again when clocks drift
// or routes change; the current delay is the least of the last 3 samples above the base. Timestamps
// are 32-bit microseconds that wrap, so every comparison is modulo 2^32.

const BUCKETS = 13
const BUCKET_MS = 60_000
const CURRENT_SAMPLES = 3

export interface DelayHistory {
  base: number
  /** Per-minute minima, oldest first; the last one is the current minute's. */
  minima: number[]
  bucketStartMs: number
  recent: number[]
  recentIndex: number
  empty: boolean
}

export function createDelayHistory(): DelayHistory {
  return { base: 0, minima: [], bucketStartMs: 0, recent: [], recentIndex: 0, empty: true }
}

/** `a` before `b` in wrapped 32-bit order. */
function less32(a: number, b: number): boolean {
  const d = (b - a) >>> 0
  return d !== 0 && d < 0x80000000
}

/** Adds a sample (µs, u32) taken at `nowMs`; returns the current queuing delay in µs. */
export function addDelaySample(history: DelayHistory, sample: number, nowMs: number): number {
  const s = sample >>> 0
  if (history.empty) {
    history.empty = false
    history.base = s
    history.minima = [s]
    history.bucketStartMs = nowMs
  } else {
    if (nowMs - history.bucketStartMs >= BUCKET_MS) {
      history.bucketStartMs = nowMs
      history.minima.push(s)
      if (history.minima.length > BUCKETS) history.minima.shift()
      history.base = history.minima[0]!
      for (const m of history.minima) if (less32(m, history.base)) history.base = m
    }
    const last = history.minima.length - 1
    if (less32(s, history.minima[last]!)) history.minima[last] = s
    if (less32(s, history.base)) history.base = s
  }
  const delay = (s - history.base) >>> 0
  if (history.recent.length < CURRENT_SAMPLES) history.recent.push(delay)
  else history.recent[history.recentIndex] = delay
  history.recentIndex = (history.recentIndex + 1) % CURRENT_SAMPLES
  let current = delay
  for (const d of history.recent) if (d < current) current = d
  return current
}

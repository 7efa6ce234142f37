// Token buckets: one per source IP for incoming queries (a flood from one host costs it, not us), one
// per destination IP for what we send (we never trip libtorrent's 50-packets-in-10-s block), and a
// global send budget. The per-IP map is bounded: the least recently refilled entries go first.

export interface TokenBucketInit {
  /** Tokens added per second. */
  rate: number
  /** Most tokens a bucket holds (the burst). */
  burst: number
}

export interface RateLimiter {
  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string): boolean
  /** Keys tracked now (bounded by `maxKeys`). */
  readonly size: number
}

export function createRateLimiter(
  init: TokenBucketInit & { maxKeys?: number; now?: () => number },
): RateLimiter {
  const now = init.now ?? Date.now
  const maxKeys = init.maxKeys ?? 10_000
  const buckets = new Map<string, { tokens: number; at: number }>()
  return {
    take(key) {
      const t = now()
      let bucket = buckets.get(key)
      if (bucket) {
        buckets.delete(key)
        bucket.tokens = Math.min(init.burst, bucket.tokens + ((t - bucket.at) / 1000) * init.rate)
        bucket.at = t
      } else {
        bucket = { tokens: init.burst, at: t }
        if (buckets.size >= maxKeys) {
          const oldest = buckets.keys().next().value
          if (oldest !== undefined) buckets.delete(oldest)
        }
      }
      // Reinserted so that Map order is least recently used first.
      buckets.set(key, bucket)
      if (bucket.tokens < 1) return false
      bucket.tokens -= 1
      return true
    },
    get size() {
      return buckets.size
    },
  }
}

/** One bucket, for the global send budget. */
export function createTokenBucket(init: TokenBucketInit & { now?: () => number }): { take(): boolean } {
  const now = init.now ?? Date.now
  let tokens = init.burst
  let at = now()
  return {
    take() {
      const t = now()
      tokens = Math.min(init.burst, tokens + ((t - at) / 1000) * init.rate)
      at = t
      if (tokens < 1) return false
      tokens -= 1
      return true
    },
  }
}

import { describe, expect, it } from 'vitest'
import { createRateLimiter, createTokenBucket } from './rate-limiter.js'

describe('rate limiters', () => {
  it('allows the burst, then the rate, per key', () => {
    let now = 0
    const limiter = createRateLimiter({ rate: 5, burst: 10, now: () => now })
    let allowed = 0
    for (let i = 0; i < 100; i++) if (limiter.take('a')) allowed++
    expect(allowed).toBe(10)
    expect(limiter.take('b')).toBe(true)
    now += 1000
    allowed = 0
    for (let i = 0; i < 100; i++) if (limiter.take('a')) allowed++
    expect(allowed).toBe(5)
  })

  it('keeps at most maxKeys buckets', () => {
    const limiter = createRateLimiter({ rate: 1, burst: 1, maxKeys: 100 })
    for (let i = 0; i < 10_000; i++) limiter.take(`10.0.${i >> 8}.${i & 0xff}`)
    expect(limiter.size).toBe(100)
  })

  it('never lets 50 packets through in 10 s with the per-node send default (3/s, burst 15)', () => {
    let now = 0
    const limiter = createRateLimiter({ rate: 3, burst: 15, now: () => now })
    let sent = 0
    for (let ms = 0; ms < 10_000; ms += 10) {
      now = ms
      if (limiter.take('x')) sent++
    }
    expect(sent).toBeLessThan(50)
  })

  it('a single bucket refills at its rate', () => {
    let now = 0
    const bucket = createTokenBucket({ rate: 2, burst: 2, now: () => now })
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false])
    now += 500
    expect([bucket.take(), bucket.take()]).toEqual([true, false])
  })
})

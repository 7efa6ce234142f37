import { describe, expect, it } from 'vitest'
import { RateLimiter } from './rate-limiter.js'

describe('RateLimiter', () => {
  it('lets one second of traffic through, then asks to wait for the debt to be paid', () => {
    let now = 0
    const limiter = new RateLimiter(100_000, () => now)
    expect(limiter.take(100_000)).toBe(0)
    expect(limiter.take(50_000)).toBe(500)
    now = 500
    expect(limiter.take(0)).toBe(0)
    now = 1500
    expect(limiter.take(100_000)).toBe(0)
  })

  it('is unlimited for 0 or Infinity', () => {
    expect(new RateLimiter(0).take(1e12)).toBe(0)
    expect(new RateLimiter(Number.POSITIVE_INFINITY).unlimited).toBe(true)
  })

  it('averages to its rate over time', () => {
    let now = 0
    const limiter = new RateLimiter(100_000, () => now)
    let sent = 0
    while (now < 10_000) {
      now += limiter.take(16_384)
      sent += 16_384
    }
    // One second of burst plus ten seconds at the rate, give or take a block.
    expect(sent).toBeGreaterThanOrEqual(1_000_000)
    expect(sent).toBeLessThanOrEqual(1_100_000 + 16_384)
  })
})

describe('RateLimiter.setRate', () => {
  it('starts limiting an unlimited bucket, and lifts a limit', () => {
    let now = 0
    const limiter = new RateLimiter(0, () => now)
    expect(limiter.take(10_000_000)).toBe(0)
    limiter.setRate(100_000)
    expect(limiter.unlimited).toBe(false)
    expect(limiter.take(100_000)).toBe(0)
    expect(limiter.take(100_000)).toBe(1000)
    now += 500
    limiter.setRate(0)
    expect(limiter.take(10_000_000)).toBe(0)
  })
})

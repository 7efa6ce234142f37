import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { trackerRetryDelayMs } from './tracker-backoff.js'

describe('trackerRetryDelayMs', () => {
  it('doubles from the base and caps at the maximum', () => {
    const options = { baseMs: 1000, maxMs: 10_000, jitter: 0 }
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => trackerRetryDelayMs(n, options))).toEqual([
      0, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ])
  })

  it('uses 15 s and 30 min by default', () => {
    expect(trackerRetryDelayMs(1, { jitter: 0 })).toBe(15_000)
    expect(trackerRetryDelayMs(100, { jitter: 0 })).toBe(30 * 60_000)
  })

  it('jitter only shortens, within its fraction, and never goes negative', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (n, random) => {
          const full = trackerRetryDelayMs(n, { jitter: 0 })
          const jittered = trackerRetryDelayMs(n, { jitter: 0.2 }, random)
          expect(jittered).toBeLessThanOrEqual(full)
          expect(jittered).toBeGreaterThanOrEqual(Math.floor(full * 0.8))
        },
      ),
    )
  })
})

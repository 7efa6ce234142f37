import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RateMeter } from './rate.js'

describe('RateMeter', () => {
  it('is 0 before any data', () => {
    expect(new RateMeter().rate(12_345)).toBe(0)
  })

  it('measures a steady stream over the window', () => {
    const meter = new RateMeter({ windowMs: 5000, bucketMs: 250 })
    for (let t = 0; t <= 20_000; t += 10) meter.add(1000, t)
    expect(meter.rate(20_000)).toBeCloseTo(100_000, -3)
    expect(meter.total).toBe(2001 * 1000)
  })

  it('forgets data older than the window', () => {
    const meter = new RateMeter({ windowMs: 2000, bucketMs: 500 })
    meter.add(1_000_000, 0)
    expect(meter.rate(1000)).toBe(1_000_000)
    expect(meter.rate(1999)).toBeGreaterThan(0)
    expect(meter.rate(2000)).toBe(0)
    meter.add(600, 9000)
    // The window's oldest bucket starts at 7500: the span is 1.5 s, not 2 s.
    expect(meter.rate(9000)).toBe(400)
  })

  it('divides by at least minSpanMs, so a young meter does not report a burst as a huge rate', () => {
    const meter = new RateMeter({ minSpanMs: 1000 })
    meter.add(16_384, 100)
    expect(meter.rate(101)).toBe(16_384)
    expect(meter.rate(1100)).toBe(16_384)
    expect(meter.rate(2100)).toBe(16_384 / 2)
  })

  it('rejects a window shorter than a bucket', () => {
    expect(() => new RateMeter({ windowMs: 100, bucketMs: 250 })).toThrow(RangeError)
    expect(() => new RateMeter({ bucketMs: 0 })).toThrow(RangeError)
  })

  it('never exceeds the bytes seen in the window divided by the span', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.nat(700), bytes: fc.nat(100_000) }), { minLength: 1, maxLength: 200 }),
        fc.nat(6000),
        (events, after) => {
          const meter = new RateMeter({ windowMs: 5000, bucketMs: 250, minSpanMs: 1000 })
          let t = 0
          const seen: [number, number][] = []
          for (const { gap, bytes } of events) {
            t += gap
            meter.add(bytes, t)
            seen.push([t, bytes])
          }
          const now = t + after
          const rate = meter.rate(now)
          // Buckets can keep up to one bucket's worth of extra history, never more.
          const recent = seen.filter(([at]) => at > now - 5250).reduce((sum, [, b]) => sum + b, 0)
          const inWindow = seen.filter(([at]) => at > now - 4750).reduce((sum, [, b]) => sum + b, 0)
          expect(rate).toBeGreaterThanOrEqual(0)
          expect(rate).toBeLessThanOrEqual(recent + 1e-6)
          if (now - seen[0]![0] >= 5000) {
            expect(rate).toBeGreaterThanOrEqual((inWindow * 1000) / 5000 - 1e-6)
          }
        },
      ),
    )
  })
})

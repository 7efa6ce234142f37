import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_RETRANSMIT_BASE_MS, MAX_RETRANSMITS, retransmitTimeoutMs } from './backoff.js'

describe('retransmitTimeoutMs', () => {
  it('follows BEP 15: 15·2^n seconds for n = 0…8', () => {
    const schedule = Array.from({ length: MAX_RETRANSMITS + 1 }, (_, n) => retransmitTimeoutMs(n) / 1000)
    expect(schedule).toEqual([15, 30, 60, 120, 240, 480, 960, 1920, 3840])
    expect(DEFAULT_RETRANSMIT_BASE_MS).toBe(15_000)
  })

  it('scales with a shrunk base for tests', () => {
    expect([0, 1, 2, 3].map((n) => retransmitTimeoutMs(n, 10))).toEqual([10, 20, 40, 80])
  })

  it('clamps the exponent to [0, 8]', () => {
    expect(retransmitTimeoutMs(9)).toBe(3_840_000)
    expect(retransmitTimeoutMs(Number.POSITIVE_INFINITY)).toBe(3_840_000)
    expect(retransmitTimeoutMs(-3)).toBe(15_000)
  })

  it('rejects a meaningless base or attempt', () => {
    expect(() => retransmitTimeoutMs(0, 0)).toThrow(RangeError)
    expect(() => retransmitTimeoutMs(0, -1)).toThrow(RangeError)
    expect(() => retransmitTimeoutMs(Number.NaN)).toThrow(RangeError)
  })

  it('never shrinks from one attempt to the next and doubles until the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 100_000 }), (n, base) => {
        const now = retransmitTimeoutMs(n, base)
        const next = retransmitTimeoutMs(n + 1, base)
        expect(next).toBe(n < MAX_RETRANSMITS ? 2 * now : now)
      }),
    )
  })
})

import { describe, expect, it } from 'vitest'
import { createLedbatState, LEDBAT_DEFAULTS, ledbatOnAck, ledbatOnLoss, ledbatOnTimeout } from './ledbat.js'

const init = { ...LEDBAT_DEFAULTS, mss: 1400 }

describe('LEDBAT window', () => {
  it('grows by the bytes acked in slow start while below target', () => {
    const s = createLedbatState(init, 10_000)
    ledbatOnAck(s, init, 2800, 0, 10_000, true)
    expect(s.cwnd).toBe(12_800)
    expect(s.slowStart).toBe(true)
  })

  it('leaves slow start at the target delay and then moves at most gain bytes per window', () => {
    const s = createLedbatState(init, 100_000)
    ledbatOnAck(s, init, 1000, 150_000, 100_000, true)
    expect(s.slowStart).toBe(false)
    expect(s.ssthresh).toBe(50_000)
    // delay 50 % over target: -0.5 × gain × (acked / in flight)
    expect(s.cwnd).toBeCloseTo(100_000 - 0.5 * 3000 * (1000 / 100_000))
    const before = s.cwnd
    // a whole window acked at zero delay: + gain bytes
    ledbatOnAck(s, init, 100_000, 0, 100_000, true)
    expect(s.cwnd).toBeCloseTo(before + 3000)
  })

  it('at exactly the target neither grows nor shrinks (outside slow start)', () => {
    const s = createLedbatState(init, 50_000)
    s.slowStart = false
    ledbatOnAck(s, init, 50_000, 100_000, 50_000, true)
    expect(s.cwnd).toBe(50_000)
  })

  it('does not grow an application-limited window', () => {
    const s = createLedbatState(init, 50_000)
    ledbatOnAck(s, init, 1400, 0, 1400, false)
    expect(s.cwnd).toBe(50_000)
  })

  it('halves on loss, drops to one packet on timeout, and never goes below one packet', () => {
    const s = createLedbatState(init, 40_000)
    ledbatOnLoss(s, init)
    expect(s.cwnd).toBe(20_000)
    expect(s.slowStart).toBe(false)
    ledbatOnTimeout(s, init)
    expect(s.cwnd).toBe(1400)
    expect(s.slowStart).toBe(true)
    ledbatOnLoss(s, init)
    expect(s.cwnd).toBe(1400)
    s.slowStart = false
    ledbatOnAck(s, init, 1400, 10_000_000, 1400, true)
    expect(s.cwnd).toBe(1400)
  })
})

import { describe, expect, it } from 'vitest'
import { addDelaySample, createDelayHistory } from './delay-history.js'

describe('delay history', () => {
  it('measures delay above the lowest sample seen', () => {
    const h = createDelayHistory()
    expect(addDelaySample(h, 1_000_000, 0)).toBe(0)
    addDelaySample(h, 1_050_000, 10)
    addDelaySample(h, 1_060_000, 20)
    // the current delay is the least of the last three samples
    expect(addDelaySample(h, 1_070_000, 30)).toBe(50_000)
    expect(addDelaySample(h, 900_000, 40)).toBe(0)
    expect(h.base).toBe(900_000)
  })

  it('handles timestamp differences that wrap past 2^32', () => {
    const h = createDelayHistory()
    addDelaySample(h, 0xffffff00, 0)
    addDelaySample(h, 0x00000100, 1)
    addDelaySample(h, 0x00000100, 2)
    expect(addDelaySample(h, 0x00000100, 3)).toBe(0x200)
    expect(addDelaySample(h, 0xfffffff0, 4)).toBe(0xf0)
  })

  it('forgets a base older than 13 minutes, so it can rise again', () => {
    const h = createDelayHistory()
    addDelaySample(h, 100, 0)
    for (let minute = 1; minute <= 14; minute++) addDelaySample(h, 5000, minute * 60_000)
    expect(h.base).toBe(5000)
  })
})

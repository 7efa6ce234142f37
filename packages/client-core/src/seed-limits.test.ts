import { describe, expect, it } from 'vitest'
import { seedLimitReached } from './seed-limits.js'

describe('seedLimitReached', () => {
  const state = { uploadedBytes: 0, wantedBytes: 1000, seedingMs: 0 }

  it('never without limits', () => {
    expect(seedLimitReached({}, { ...state, uploadedBytes: 1e12, seedingMs: 1e12 })).toBeUndefined()
  })

  it('by ratio of the wanted size, ratio first', () => {
    expect(seedLimitReached({ ratio: 1.5 }, { ...state, uploadedBytes: 1499 })).toBeUndefined()
    expect(seedLimitReached({ ratio: 1.5 }, { ...state, uploadedBytes: 1500 })).toBe('ratio')
    expect(seedLimitReached({ ratio: 0 }, state)).toBe('ratio')
    expect(
      seedLimitReached({ ratio: 1, seconds: 1 }, { ...state, uploadedBytes: 1000, seedingMs: 5000 }),
    ).toBe('ratio')
  })

  it('by time spent seeding', () => {
    expect(seedLimitReached({ seconds: 60 }, { ...state, seedingMs: 59_999 })).toBeUndefined()
    expect(seedLimitReached({ seconds: 60 }, { ...state, seedingMs: 60_000 })).toBe('time')
  })
})

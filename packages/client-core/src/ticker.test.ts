import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTicker } from './ticker.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('createTicker', () => {
  it('ticks every callback on one timer, and stops the timer when none is left', () => {
    vi.useFakeTimers()
    const ticker = createTicker(1000)
    const a = vi.fn()
    const b = vi.fn()
    const stopA = ticker.add(a)
    const stopB = ticker.add(b)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(2000)
    expect(a).toHaveBeenCalledTimes(2)
    expect(b).toHaveBeenCalledTimes(2)
    stopA()
    vi.advanceTimersByTime(1000)
    expect(a).toHaveBeenCalledTimes(2)
    expect(b).toHaveBeenCalledTimes(3)
    stopB()
    expect(vi.getTimerCount()).toBe(0)
    ticker.add(a)
    expect(vi.getTimerCount()).toBe(1)
  })
})

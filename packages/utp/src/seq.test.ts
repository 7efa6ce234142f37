import { describe, expect, it } from 'vitest'
import { seqAdd, seqDistance, seqLess } from './seq.js'

describe('16-bit sequence numbers', () => {
  it('add and measure modulo 2^16', () => {
    expect(seqAdd(65535, 1)).toBe(0)
    expect(seqAdd(0, -1)).toBe(65535)
    expect(seqDistance(2, 65534)).toBe(4)
    expect(seqDistance(65534, 2)).toBe(65532)
  })

  it('order across the wrap within half the space', () => {
    expect(seqLess(65535, 0)).toBe(true)
    expect(seqLess(0, 65535)).toBe(false)
    expect(seqLess(65000, 100)).toBe(true)
    expect(seqLess(100, 65000)).toBe(false)
    expect(seqLess(5, 5)).toBe(false)
    expect(seqLess(0, 0x7fff)).toBe(true)
    expect(seqLess(0, 0x8000)).toBe(false)
  })
})

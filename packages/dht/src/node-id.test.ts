import { describe, expect, it } from 'vitest'
import {
  commonPrefixBits,
  compareDistance,
  randomIdWithPrefix,
  randomNodeId,
  xorDistance,
} from './node-id.js'

const id = (first: number, rest = 0) => Uint8Array.from({ length: 20 }, (_, i) => (i === 0 ? first : rest))

describe('node ids', () => {
  it('XOR distance is symmetric and zero only to itself', () => {
    const a = randomNodeId()
    const b = randomNodeId()
    expect(xorDistance(a, b)).toEqual(xorDistance(b, a))
    expect(xorDistance(a, a).every((byte) => byte === 0)).toBe(true)
    expect(xorDistance(id(0x80), id(0x00))[0]).toBe(0x80)
  })

  it('compares distances to a target', () => {
    const target = id(0)
    expect(compareDistance(target, id(1), id(2))).toBeLessThan(0)
    expect(compareDistance(target, id(0x80), id(0x7f))).toBeGreaterThan(0)
    expect(compareDistance(target, id(5, 1), id(5, 1))).toBe(0)
  })

  it('counts shared prefix bits', () => {
    expect(commonPrefixBits(id(0x80), id(0x00))).toBe(0)
    expect(commonPrefixBits(id(0x40), id(0x00))).toBe(1)
    expect(commonPrefixBits(id(0x01), id(0x00))).toBe(7)
    expect(
      commonPrefixBits(
        Uint8Array.from({ length: 20 }, (_, i) => (i === 19 ? 1 : 0)),
        id(0, 0),
      ),
    ).toBe(159)
    expect(commonPrefixBits(id(3, 3), id(3, 3))).toBe(160)
  })

  it('makes random ids sharing exactly n prefix bits', () => {
    const own = randomNodeId()
    for (const n of [0, 1, 7, 8, 9, 63, 150, 159]) {
      for (let i = 0; i < 20; i++) expect(commonPrefixBits(own, randomIdWithPrefix(own, n))).toBe(n)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { bloomEstimate, bloomInsert, createBloomFilter } from './bloom-filter.js'

describe('BEP 33 bloom filter', () => {
  it('matches the BEP’s test vector (192.0.2.0–255 and 2001:db8::0–3e7: 1224.93)', () => {
    const filter = createBloomFilter()
    for (let i = 0; i < 256; i++) bloomInsert(filter, `192.0.2.${i}`)
    for (let i = 0; i < 1000; i++) bloomInsert(filter, `2001:db8::${i.toString(16)}`)
    expect(bloomEstimate(filter)).toBeCloseTo(1224.9308, 3)
  })

  it('estimates small sets closely', () => {
    const filter = createBloomFilter()
    expect(bloomEstimate(filter)).toBeLessThan(1)
    for (let i = 1; i <= 20; i++) bloomInsert(filter, `10.0.0.${i}`)
    expect(Math.round(bloomEstimate(filter))).toBeGreaterThanOrEqual(18)
    expect(Math.round(bloomEstimate(filter))).toBeLessThanOrEqual(21)
  })
})

import { describe, expect, it } from 'vitest'
import { BLOCK_SIZE, blockCount, blockLength, isSnubbed, queueDepth } from './block-requests.js'
import { RateMeter } from './rate.js'

describe('block geometry', () => {
  it('16 KiB blocks, the last one shorter', () => {
    expect(BLOCK_SIZE).toBe(16_384)
    expect(blockCount(1 << 20)).toBe(64)
    expect(blockCount(BLOCK_SIZE + 1)).toBe(2)
    expect(blockLength(BLOCK_SIZE + 1, 0)).toBe(BLOCK_SIZE)
    expect(blockLength(BLOCK_SIZE + 1, 1)).toBe(1)
    expect(blockCount(100)).toBe(1)
    expect(blockLength(100, 0)).toBe(100)
  })
})

describe('queueDepth', () => {
  it('keeps targetSeconds of data requested, between min and max', () => {
    expect(queueDepth(0)).toBe(4)
    expect(queueDepth(Number.NaN)).toBe(4)
    expect(queueDepth(100 * BLOCK_SIZE)).toBe(300)
    expect(queueDepth(100 * BLOCK_SIZE, { targetSeconds: 1 })).toBe(100)
    expect(queueDepth(1000)).toBe(4)
    expect(queueDepth(10 * BLOCK_SIZE + 1, { targetSeconds: 1, min: 1 })).toBe(11)
    expect(queueDepth(1e9)).toBe(500)
  })

  it("a peer's reqq caps the queue, even below min", () => {
    expect(queueDepth(1e9, { max: 250 })).toBe(250)
    expect(queueDepth(0, { max: 2 })).toBe(2)
    expect(queueDepth(0, { max: 0 })).toBe(1)
  })

  it('starts slow and grows several-fold per round trip with the measured rate', () => {
    // A peer that answers every request one round trip (50 ms) later, with unlimited bandwidth.
    const meter = new RateMeter()
    const rtt = 50
    const depths: number[] = []
    for (let now = 0; now < 1000; now += rtt) {
      const depth = queueDepth(meter.rate(now))
      depths.push(depth)
      meter.add(depth * BLOCK_SIZE, now + rtt)
    }
    expect(depths[0]).toBe(4)
    for (let i = 1; i < depths.length; i++) {
      expect(depths[i]).toBeGreaterThanOrEqual(Math.min(500, depths[i - 1]! * 3))
    }
    expect(depths.at(-1)).toBe(500)
  })
})

describe('isSnubbed', () => {
  it('needs outstanding requests', () => {
    expect(isSnubbed({ now: 1e9, lastBlockAt: undefined, oldestRequestAt: undefined })).toBe(false)
  })

  it('counts from the later of the last block and the oldest outstanding request', () => {
    expect(isSnubbed({ now: 30_000, lastBlockAt: 0, oldestRequestAt: 20_000 })).toBe(false)
    expect(isSnubbed({ now: 40_000, lastBlockAt: 0, oldestRequestAt: 20_000 })).toBe(true)
    expect(isSnubbed({ now: 40_000, lastBlockAt: 25_000, oldestRequestAt: 20_000 })).toBe(false)
    expect(isSnubbed({ now: 20_000, lastBlockAt: undefined, oldestRequestAt: 0 })).toBe(true)
    expect(isSnubbed({ now: 5000, lastBlockAt: undefined, oldestRequestAt: 0 }, 5000)).toBe(true)
    expect(isSnubbed({ now: 4999, lastBlockAt: undefined, oldestRequestAt: 0 }, 5000)).toBe(false)
  })
})

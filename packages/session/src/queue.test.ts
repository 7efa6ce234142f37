import { describe, expect, it } from 'vitest'
import { type QueueEntry, runnable } from './queue.js'

const entry = (key: string, queuePosition: number, init: Partial<QueueEntry<string>> = {}) => ({
  key,
  queuePosition,
  wanted: true,
  hasMetadata: true,
  complete: false,
  forced: false,
  running: false,
  ...init,
})

describe('runnable', () => {
  it('runs downloads in queue order up to the limit', () => {
    const entries = [entry('c', 2), entry('a', 0), entry('b', 1)]
    expect([...runnable(entries, 2)].sort()).toEqual(['a', 'b'])
  })

  it('always runs seeds and metadata fetches, never stopped torrents', () => {
    const entries = [
      entry('seed', 0, { complete: true }),
      entry('magnet', 1, { hasMetadata: false }),
      entry('stopped', 2, { wanted: false }),
      entry('download', 3),
      entry('queued', 4),
    ]
    expect([...runnable(entries, 1)].sort()).toEqual(['download', 'magnet', 'seed'])
  })

  it('keeps running downloads ahead of waiting ones, and stops the last when the limit drops', () => {
    const entries = [entry('a', 0), entry('b', 1, { running: true }), entry('c', 2, { running: true })]
    expect([...runnable(entries, 2)].sort()).toEqual(['b', 'c'])
    expect([...runnable(entries, 1)]).toEqual(['b'])
  })

  it('lets a forced download skip the queue and take a slot', () => {
    const entries = [entry('a', 0), entry('b', 1), entry('forced', 2, { forced: true })]
    expect([...runnable(entries, 2)].sort()).toEqual(['a', 'forced'])
    expect([...runnable(entries, 0)]).toEqual(['forced'])
  })
})

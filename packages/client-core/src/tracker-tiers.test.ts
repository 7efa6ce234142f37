import { describe, expect, it } from 'vitest'
import { TrackerTiers } from './tracker-tiers.js'

describe('TrackerTiers', () => {
  it('keeps order without a random source, drops duplicates and empty tiers', () => {
    const tiers = new TrackerTiers([['a', 'b'], [], ['b', 'c']])
    expect(tiers.tiers).toEqual([['a', 'b'], ['c']])
    expect(tiers.all()).toEqual(['a', 'b', 'c'])
  })

  it('shuffles within tiers only', () => {
    const tiers = new TrackerTiers(
      [
        ['a', 'b', 'c'],
        ['d', 'e'],
      ],
      { shuffle: () => 0 },
    )
    expect(tiers.tiers[0]!.slice().sort()).toEqual(['a', 'b', 'c'])
    expect(tiers.tiers[0]).not.toEqual(['a', 'b', 'c'])
    expect(tiers.tiers[1]!.slice().sort()).toEqual(['d', 'e'])
  })

  it('moves a responding tracker to the front of its tier', () => {
    const tiers = new TrackerTiers([['a', 'b', 'c'], ['d']])
    tiers.promote('c')
    tiers.promote('d')
    expect(tiers.tiers).toEqual([['c', 'a', 'b'], ['d']])
  })
})

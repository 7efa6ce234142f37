// BEP 12 announce-list tiers: trackers are shuffled within their tier once (duplicates dropped), tried in order, and a
// tracker that answers moves to the front of its tier so it is tried first next time.

export class TrackerTiers {
  readonly tiers: string[][]

  /** `shuffle` is the random source for the once-only shuffle within tiers; without it the order is kept. */
  constructor(tiers: readonly (readonly string[])[], options: { shuffle?: () => number } = {}) {
    const seen = new Set<string>()
    this.tiers = []
    for (const tier of tiers) {
      const unique = tier.filter((url) => !seen.has(url) && seen.add(url))
      if (unique.length > 0) this.tiers.push(options.shuffle ? shuffle(unique, options.shuffle) : unique)
    }
  }

  /** Every tracker, in the order a sequential announce tries them. */
  all(): string[] {
    return this.tiers.flat()
  }

  /** Moves `url` to the front of its tier. */
  promote(url: string): void {
    for (const tier of this.tiers) {
      const index = tier.indexOf(url)
      if (index > 0) {
        tier.splice(index, 1)
        tier.unshift(url)
      }
    }
  }
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

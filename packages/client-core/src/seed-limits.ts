// When seeding may stop by itself: once we uploaded `ratio` times the wanted size, or after `seconds` of
// seeding. The CLI and a session apply the same rule to each torrent; with no limit, seeding goes on.

export interface SeedLimits {
  /** Stop once uploaded bytes ≥ ratio × the wanted size (1 gives back one copy). */
  ratio?: number | undefined
  /** Stop after this long seeding (counted from when the download completed, or seeding began). */
  seconds?: number | undefined
}

export interface SeedState {
  uploadedBytes: number
  /** The torrent's wanted size (all of it, or the selected files). */
  wantedBytes: number
  /** Milliseconds spent seeding so far. */
  seedingMs: number
}

/** Which limit is reached, if one is: `ratio` is checked first. */
export function seedLimitReached(limits: SeedLimits, state: SeedState): 'ratio' | 'time' | undefined {
  if (limits.ratio !== undefined && state.uploadedBytes >= limits.ratio * state.wantedBytes) return 'ratio'
  if (limits.seconds !== undefined && state.seedingMs >= limits.seconds * 1000) return 'time'
  return undefined
}

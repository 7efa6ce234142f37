// One timer for all the torrents and metadata fetches of a client: each ticks once a second, and a
// session of a thousand torrents still has one timer, not a thousand.

export interface Ticker {
  /** Calls `tick` every period from now on; the returned function stops it. */
  add(tick: () => void): () => void
}

/** The engine's period: rechoke, request expiry, rotation and progress all count in these ticks. */
export const TICK_MS = 1000

export function createTicker(intervalMs = TICK_MS): Ticker {
  const ticks = new Set<() => void>()
  let timer: NodeJS.Timeout | undefined
  const run = () => {
    // A tick may remove itself or add another: go over a copy.
    for (const tick of [...ticks]) tick()
  }
  return {
    add(tick) {
      // Wrapped, so adding the same function twice ticks it twice and each removal removes one.
      const entry = () => tick()
      ticks.add(entry)
      timer ??= setInterval(run, intervalMs)
      return () => {
        ticks.delete(entry)
        if (ticks.size === 0 && timer) {
          clearInterval(timer)
          timer = undefined
        }
      }
    },
  }
}

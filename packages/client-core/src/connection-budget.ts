// A cap on open connections (and dials in flight). The client owns one for all its torrents; each torrent
// or metadata fetch takes its own smaller cap from it, so a connection counts against both at once.
// `acquire()` hands out a release function instead of exposing a counter for callers to change.

/** Gives a slot back; calling it again does nothing. */
export type ReleaseSlot = () => void

export interface ConnectionBudget {
  readonly max: number
  readonly used: number
  /** Slots free here and in every parent budget. */
  readonly available: number
  /** A slot, or `undefined` when this budget or a parent is full. */
  acquire(): ReleaseSlot | undefined
  /** Changes the cap; slots taken beyond a lowered cap stay until released, new ones wait below it. */
  setMax(max: number): void
}

/** A budget of `max` slots; with a `parent`, every slot also takes one of the parent's. */
export function createConnectionBudget(initialMax: number, parent?: ConnectionBudget): ConnectionBudget {
  const check = (max: number) => {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`client-core: connection budget ${max}`)
    return max
  }
  let max = check(initialMax)
  let used = 0
  return {
    get max() {
      return max
    },
    setMax(next: number) {
      max = check(next)
    },
    get used() {
      return used
    },
    get available() {
      const own = Math.max(0, max - used)
      return parent ? Math.min(own, parent.available) : own
    },
    acquire() {
      if (used >= max) return undefined
      const parentRelease = parent?.acquire()
      if (parent && !parentRelease) return undefined
      used++
      let released = false
      return () => {
        if (released) return
        released = true
        used--
        parentRelease?.()
      }
    },
  }
}

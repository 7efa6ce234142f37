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
}

/** A budget of `max` slots; with a `parent`, every slot also takes one of the parent's. */
export function createConnectionBudget(max: number, parent?: ConnectionBudget): ConnectionBudget {
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`client-core: connection budget ${max}`)
  let used = 0
  return {
    max,
    get used() {
      return used
    },
    get available() {
      const own = max - used
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

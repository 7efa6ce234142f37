// The download queue as a pure rule: which torrents should be running now. Seeds and magnets fetching
// their metadata always run (they cost little); downloads started "now" skip the queue; the rest run
// in queue order while fewer than `maxActive` downloads are running. A running download keeps its slot
// (a torrent started while the queue is full waits, as in Transmission); only a lowered limit stops one.

export interface QueueEntry<K> {
  key: K
  queuePosition: number
  /** Not stopped by the user and not in error. */
  wanted: boolean
  /** Metadata known (else it is a magnet still fetching it). */
  hasMetadata: boolean
  /** Every wanted piece verified, as far as the session knows. */
  complete: boolean
  /** Started with `now`: skips the queue (and still takes a slot from it). */
  forced: boolean
  /** Running now: keeps its slot ahead of waiting torrents. */
  running: boolean
}

export function runnable<K>(entries: readonly QueueEntry<K>[], maxActive: number): Set<K> {
  const run = new Set<K>()
  const waiting: QueueEntry<K>[] = []
  let active = 0
  for (const entry of entries) {
    if (!entry.wanted) continue
    if (!entry.hasMetadata || entry.complete) run.add(entry.key)
    else if (entry.forced) {
      run.add(entry.key)
      active++
    } else waiting.push(entry)
  }
  waiting.sort((a, b) => Number(b.running) - Number(a.running) || a.queuePosition - b.queuePosition)
  for (const entry of waiting) {
    if (active >= maxActive) break
    run.add(entry.key)
    active++
  }
  return run
}

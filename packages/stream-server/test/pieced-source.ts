// A StreamSource over bytes in memory that behaves like a torrent being downloaded: the files are laid
// end to end and cut into pieces, and a read yields a piece's bytes only once that piece is released
// (by the test, on a schedule, or shortly after a reader first waits for it). It records every read
// and every byte it yields, so tests can see that reads block, stop when aborted and never run ahead.
import type { StreamFile, StreamSource } from '../src/index.js'

export interface PiecedFileSpec {
  readonly path: string
  readonly bytes: Uint8Array
}

export type ReleasePolicy =
  /** Every piece is there from the start (a finished download). */
  | { readonly kind: 'all' }
  /** Nothing until `release(piece)`. */
  | { readonly kind: 'manual' }
  /** Pieces in order, one every `intervalMs` (a download in progress). */
  | { readonly kind: 'schedule'; readonly intervalMs: number }
  /** A piece arrives `delayMs` after a reader first waits for it (priority that follows the reader). */
  | { readonly kind: 'on-demand'; readonly delayMs: number }

export interface PiecedSource extends StreamSource {
  readonly pieceLength: number
  readonly pieceCount: number
  release(piece: number): void
  /** Makes every waiting and later read reject, as a stopped torrent does. */
  fail(error: Error): void
  /** Every `read` call, in order. */
  readonly reads: { index: number; start: number; end: number }[]
  /** Bytes yielded by all reads so far. */
  yielded(): number
  /** Reads that have not finished (a read aborted while waiting finishes at once). */
  active(): number
  /** Pieces some read is waiting for. */
  waitingFor(): number[]
  /** Stops the schedule's timers. */
  stop(): void
}

export function piecedSource(
  name: string,
  specs: readonly PiecedFileSpec[],
  options: { pieceLength: number; release: ReleasePolicy },
): PiecedSource {
  const { pieceLength, release: policy } = options
  const offsets: number[] = []
  let total = 0
  for (const spec of specs) {
    offsets.push(total)
    total += spec.bytes.byteLength
  }
  const pieceCount = Math.ceil(total / pieceLength)
  const available = new Set<number>()
  const waiters = new Map<number, Set<() => void>>()
  const timers = new Set<NodeJS.Timeout>()
  let failure: Error | undefined
  let yielded = 0
  let active = 0
  const reads: { index: number; start: number; end: number }[] = []

  const release = (piece: number) => {
    available.add(piece)
    for (const wake of waiters.get(piece) ?? []) wake()
    waiters.delete(piece)
  }
  if (policy.kind === 'all') for (let piece = 0; piece < pieceCount; piece++) available.add(piece)
  if (policy.kind === 'schedule') {
    let next = 0
    const timer = setInterval(() => {
      release(next++)
      if (next >= pieceCount) clearInterval(timer)
    }, policy.intervalMs)
    timer.unref()
    timers.add(timer)
  }

  /** Resolves true once `piece` is there, false if `signal` aborts first. */
  const waitFor = (piece: number, signal: AbortSignal): Promise<boolean> => {
    if (available.has(piece) || failure) return Promise.resolve(true)
    if (signal.aborted) return Promise.resolve(false)
    let set = waiters.get(piece)
    if (!set) {
      set = new Set()
      waiters.set(piece, set)
      if (policy.kind === 'on-demand') {
        const timer = setTimeout(() => {
          timers.delete(timer)
          release(piece)
        }, policy.delayMs)
        timers.add(timer)
      }
    }
    const waiting = set
    return new Promise((resolve) => {
      const onAbort = () => finish(false)
      const wake = () => finish(true)
      const finish = (ok: boolean) => {
        waiting.delete(wake)
        signal.removeEventListener('abort', onAbort)
        resolve(ok)
      }
      waiting.add(wake)
      signal.addEventListener('abort', onAbort)
    })
  }

  const files: StreamFile[] = specs.map((spec, index) => ({
    index,
    path: spec.path,
    length: spec.bytes.byteLength,
  }))

  return {
    name,
    files,
    pieceLength,
    pieceCount,
    reads,
    release,
    fail(error) {
      failure = error
      for (const set of waiters.values()) for (const wake of set) wake()
    },
    yielded: () => yielded,
    active: () => active,
    waitingFor: () => [...waiters].filter(([, set]) => set.size > 0).map(([piece]) => piece),
    stop() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
    },
    async *read(index, start, end, { signal }) {
      reads.push({ index, start, end })
      const spec = specs[index]
      const base = offsets[index]
      if (!spec || base === undefined || start < 0 || end > spec.bytes.byteLength || start > end) {
        throw new RangeError(`bad read ${index} ${start}-${end}`)
      }
      active++
      try {
        let position = start
        while (position < end) {
          const piece = Math.floor((base + position) / pieceLength)
          if (!(await waitFor(piece, signal))) return
          if (failure) throw failure
          if (signal.aborted) return
          const chunkEnd = Math.min(end, (piece + 1) * pieceLength - base)
          const chunk = spec.bytes.subarray(position, chunkEnd)
          yielded += chunk.byteLength
          yield chunk
          position = chunkEnd
        }
      } finally {
        active--
      }
    },
  }
}

/** Deterministic, position-dependent bytes, so a shifted range never compares equal by accident. */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    bytes[i] = x & 0xff
  }
  return bytes
}

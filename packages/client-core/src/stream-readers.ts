// Readers of a torrent's files while it downloads (streaming): each read waits for its pieces to be
// verified and yields only verified bytes, and the pieces under every open read position plus a
// read-ahead window are what the picker fetches first (`setUrgent`), in reading order. A seek moves
// the window at once: the host takes back requests for pieces no reader needs soon any more.
import type { FileLayout } from '@bt/metainfo'

/** Bytes handed out at a time: bounded memory whatever the piece size. */
const CHUNK = 256 * 1024

export interface StreamReadersHost {
  readonly layout: FileLayout
  /** Whether piece `index` is verified and whole in the store (readable). */
  hasPiece(index: number): boolean
  /** `length` bytes at `begin` of a complete piece. */
  readBlock(index: number, begin: number, length: number, signal: AbortSignal): Promise<Uint8Array>
  /** Bytes ahead of each reader to fetch first (a few seconds at the current rate). */
  readAheadBytes(): number
  /**
   * The pieces readers wait for changed: `pieces` first, in order. `seeked`: a reader now waits for a
   * piece that was not urgent before (a seek, or a new reader): whatever is queued at peers ahead of it
   * should be taken back, or the reader waits behind seconds of other requests.
   */
  urgentChanged(pieces: readonly number[], seeked: boolean): void
}

interface Reader {
  /** Torrent offset of the next byte this reader wants. */
  position: number
  readonly end: number
}

export class StreamReaders {
  private readonly host: StreamReadersHost
  private readonly readers = new Set<Reader>()
  private readonly waiting = new Map<number, Set<() => void>>()
  private urgent: readonly number[] = []
  private stopped: Error | undefined
  private everOpened = false

  constructor(host: StreamReadersHost) {
    this.host = host
  }

  /** Some reader was opened: the torrent is being streamed (and its request queues kept short). */
  get streamed(): boolean {
    return this.everOpened
  }

  /** Bytes [start, end) of the torrent's content, each chunk once its piece is verified. */
  async *read(start: number, end: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const reader: Reader = { position: start, end }
    this.readers.add(reader)
    this.everOpened = true
    try {
      this.update()
      const { layout } = this.host
      while (reader.position < end) {
        signal.throwIfAborted()
        if (this.stopped) throw this.stopped
        const index = Math.floor(reader.position / layout.pieceLength)
        if (!this.host.hasPiece(index)) {
          await this.verified(index, signal)
          continue
        }
        const begin = reader.position - index * layout.pieceLength
        const length = Math.min(CHUNK, layout.pieceLengthAt(index) - begin, end - reader.position)
        const chunk = await this.host.readBlock(index, begin, length, signal)
        reader.position += length
        // Moving into the next piece moves the window.
        if (Math.floor(reader.position / layout.pieceLength) !== index) this.update()
        yield chunk
      }
    } finally {
      this.readers.delete(reader)
      this.update()
    }
  }

  /** A piece became readable: wake its readers and slide the windows. */
  pieceVerified(index: number): void {
    const wake = this.waiting.get(index)
    if (wake) {
      this.waiting.delete(index)
      for (const resolve of wake) resolve()
    }
    if (this.urgent.includes(index)) this.update()
  }

  /** Every open and later read ends with `reason`. */
  stop(reason: Error): void {
    this.stopped = reason
    for (const wake of this.waiting.values()) for (const resolve of wake) resolve()
    this.waiting.clear()
  }

  private verified(index: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.waiting.get(index) ?? new Set<() => void>()
      this.waiting.set(index, waiters)
      const done = () => {
        signal.removeEventListener('abort', done)
        waiters.delete(done)
        if (waiters.size === 0 && this.waiting.get(index) === waiters) this.waiting.delete(index)
        resolve()
      }
      waiters.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  /** Whether `index` is the piece some reader is at now (not one of its read-ahead). */
  private headOf(index: number): number | undefined {
    const { pieceLength } = this.host.layout
    for (const reader of this.readers) if (Math.floor(reader.position / pieceLength) === index) return index
    return undefined
  }

  /** Recomputes the urgent pieces: for each reader, from its position to the end of its window. */
  private update(): void {
    const { layout } = this.host
    const ahead = this.host.readAheadBytes()
    const pieces: number[] = []
    const seen = new Set<number>()
    for (const reader of this.readers) {
      if (reader.position >= reader.end) continue
      const first = Math.floor(reader.position / layout.pieceLength)
      const last = Math.floor((Math.min(reader.end, reader.position + ahead) - 1) / layout.pieceLength)
      for (let index = first; index <= last; index++) {
        if (seen.has(index) || this.host.hasPiece(index)) continue
        seen.add(index)
        pieces.push(index)
      }
    }
    if (pieces.length === this.urgent.length && pieces.every((index, at) => this.urgent[at] === index)) return
    const before = new Set(this.urgent)
    const seeked = pieces.some((index) => !before.has(index) && index === this.headOf(index))
    this.urgent = pieces
    this.host.urgentChanged(pieces, seeked)
  }
}

// Serving blocks to peers: requests are checked (verified pieces only, at most 16 KiB, inside the
// piece), queued per peer, read through a small cache of piece segments (several peers usually want
// the same pieces), and written respecting socket backpressure. Cancelled requests are dropped unsent.
//
// Throughput and memory both come from the send path: blocks go out in batches (one writev per batch,
// not per block), straight from the cache's memory (a header and a view, no copy), and the cache's
// buffers are recycled, never garbage: a buffer is reused only once no read and no socket holds it.

import type { PeerConnection } from '@bt/peer-wire'
import type { PieceStore } from '@bt/piece-store'
import { BLOCK_SIZE } from './block-requests.js'
import type { Block } from './piece-picker.js'
import type { RateMeter } from './rate.js'
import type { RateLimiter } from './rate-limiter.js'

/** Requests a peer may have queued with us; a peer asking for more is abusive. */
export const MAX_QUEUED_UPLOADS = 4000
/**
 * Bytes queued on a peer's socket before we wait for it to drain. The socket's own high-water mark
 * (16 KiB) is one block: waiting on it would leave the link idle between blocks.
 */
const UPLOAD_BUFFER_BYTES = 256 * 1024
/** Bytes of blocks handed to a socket in one write (one syscall). */
const BATCH_BYTES = 256 * 1024
/** A request this long is not a mistake: drop the peer. */
const ABUSIVE_LENGTH = 128 * 1024
/** The unit read from disk and cached: whole pieces up to this size, parts of this size of larger ones. */
const MAX_SEGMENT_BYTES = 1024 * 1024
/** Segments read ahead of what a peer's first queued request needs (its later requests show which). */
const READ_AHEAD_SEGMENTS = 2
/** Queued requests looked at to find those segments. */
const READ_AHEAD_SCAN = 256
/**
 * Bytes a peer's pump sends without waiting for anything before it lets the event loop run: a fast
 * reader with a long queue would otherwise keep the other peers and every incoming message waiting.
 */
const YIELD_BYTES = 1024 * 1024

export type RequestVerdict = 'queued' | 'rejected' | 'abusive'

export interface UploadQueue {
  readonly conn: PeerConnection
  readonly requests: Block[]
  sending: boolean
  /** What we send this peer (bytes/s), for choking while seeding. */
  readonly rate: RateMeter
}

export class Uploader {
  private readonly cache: SegmentCache
  /** Segment size: a piece, or a part of one. */
  private readonly segmentBytes: number
  private readonly segmentsPerPiece: number

  constructor(
    private readonly store: PieceStore,
    private readonly pieceLengthAt: (index: number) => number,
    private readonly pieceCount: number,
    private readonly onSent: (bytes: number, now: number) => void,
    /** Upload limits that apply (the torrent's, the client's). */
    private readonly limits: readonly RateLimiter[] = [],
    cacheBytes = 32 * 1024 * 1024,
  ) {
    const pieceLength = pieceCount > 0 ? pieceLengthAt(0) : MAX_SEGMENT_BYTES
    this.segmentBytes = Math.min(pieceLength, MAX_SEGMENT_BYTES)
    this.segmentsPerPiece = Math.ceil(pieceLength / this.segmentBytes)
    this.cache = new SegmentCache(
      this.segmentBytes,
      Math.max(1, Math.floor(cacheBytes / this.segmentBytes)),
      (key, target) => {
        const index = Math.floor(key / this.segmentsPerPiece)
        return store.readBlockInto(index, (key % this.segmentsPerPiece) * this.segmentBytes, target)
      },
    )
  }

  /** Checks a peer's request and queues it; says why not otherwise (reject it, or drop the peer). */
  request(queue: UploadQueue, block: Block): RequestVerdict {
    const { index, begin, length } = block
    if (length > ABUSIVE_LENGTH || queue.requests.length >= MAX_QUEUED_UPLOADS) return 'abusive'
    const valid =
      Number.isInteger(index) &&
      index >= 0 &&
      index < this.pieceCount &&
      Number.isInteger(begin) &&
      Number.isInteger(length) &&
      length > 0 &&
      length <= BLOCK_SIZE &&
      begin >= 0 &&
      begin + length <= this.pieceLengthAt(index) &&
      this.store.have.has(index) &&
      !queue.conn.amChoking
    if (!valid) return 'rejected'
    queue.requests.push(block)
    if (!queue.sending) void this.pump(queue)
    return 'queued'
  }

  cancel(queue: UploadQueue, block: Block): void {
    const at = queue.requests.findIndex(
      (queued) =>
        queued.index === block.index && queued.begin === block.begin && queued.length === block.length,
    )
    if (at >= 0) queue.requests.splice(at, 1)
  }

  /** We choked the peer: its queued requests are void (rejected explicitly under the fast extension). */
  choked(queue: UploadQueue): void {
    if (queue.conn.negotiated.fast) {
      for (const { index, begin, length } of queue.requests) queue.conn.reject(index, begin, length)
    }
    queue.requests.length = 0
  }

  private async pump(queue: UploadQueue): Promise<void> {
    if (queue.sending) return
    queue.sending = true
    const { conn, requests } = queue
    let unbroken = 0
    try {
      while (requests.length > 0 && !conn.closed) {
        const head = requests[0]!
        const key = this.segmentKey(head)
        if (key === undefined) {
          await this.sendUncached(queue, head)
          continue
        }
        const segment = this.cache.load(key, this.segmentLength(key), true)!
        // Pinned before anything else is read, so no read (ours or another peer's) can take its buffer
        // before we have sent from it.
        this.cache.pin(segment)
        let bytes: number
        try {
          this.readAhead(requests)
          if (!segment.ready) {
            unbroken = 0
            await segment.loading
          }
          if (conn.closed) break
          bytes = this.limits.some((limit) => !limit.unlimited)
            ? await this.sendLimited(queue, head, segment)
            : this.sendBatch(queue)
        } finally {
          this.cache.unpin(segment)
        }
        if (bytes > 0) {
          const now = Date.now()
          queue.rate.add(bytes, now)
          this.onSent(bytes, now)
        }
        unbroken += bytes
        if (conn.writableLength > UPLOAD_BUFFER_BYTES) {
          unbroken = 0
          await conn.waitForDrain()
        } else if (unbroken >= YIELD_BYTES) {
          unbroken = 0
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
    } catch {
      // A read failure or a closed connection: the peer just gets nothing more; the torrent goes on.
      requests.length = 0
    } finally {
      queue.sending = false
    }
  }

  /**
   * Sends the queued blocks whose segments are in the cache, from the front of the queue, in one write
   * of up to `BATCH_BYTES`. Returns the bytes sent.
   */
  private sendBatch(queue: UploadQueue): number {
    const { conn, requests } = queue
    let bytes = 0
    conn.cork()
    try {
      while (bytes < BATCH_BYTES && requests.length > 0) {
        const block = requests[0]!
        const key = this.segmentKey(block)
        const segment = key === undefined ? undefined : this.cache.get(key)
        if (segment === undefined || !segment.ready) break
        requests.shift()
        this.sendFrom(conn, segment, block)
        bytes += block.length
      }
    } finally {
      conn.uncork()
    }
    return bytes
  }

  /** Under a rate limit: one block at a time, after waiting for its tokens. */
  private async sendLimited(queue: UploadQueue, head: Block, segment: Segment): Promise<number> {
    // Cancelled or choked while its segment was being read.
    if (queue.requests[0] !== head || !segment.ready) return 0
    queue.requests.shift()
    const wait = Math.max(0, ...this.limits.map((limit) => limit.take(head.length)))
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    if (queue.conn.closed) return 0
    this.sendFrom(queue.conn, segment, head)
    return head.length
  }

  private sendFrom(conn: PeerConnection, segment: Segment, block: Block): void {
    const at = block.begin % this.segmentBytes
    this.cache.pin(segment)
    conn.piece(block.index, block.begin, segment.bytes.subarray(at, at + block.length), () =>
      this.cache.unpin(segment),
    )
  }

  /** A block across two segments (odd offsets in a torrent with pieces over 1 MiB): read on its own. */
  private async sendUncached(queue: UploadQueue, head: Block): Promise<void> {
    const block = await this.store.readBlock(head.index, head.begin, head.length)
    if (queue.requests[0] !== head) return
    queue.requests.shift()
    const wait = Math.max(0, ...this.limits.map((limit) => limit.take(head.length)))
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    if (queue.conn.closed) return
    queue.conn.piece(head.index, head.begin, block)
    const now = Date.now()
    queue.rate.add(head.length, now)
    this.onSent(head.length, now)
    if (queue.conn.writableLength > UPLOAD_BUFFER_BYTES) await queue.conn.waitForDrain()
  }

  /** Starts reading the next segments the peer's queue needs, as far as the cache has room. */
  private readAhead(requests: readonly Block[]): void {
    let first: number | undefined
    let found = 0
    const end = Math.min(requests.length, READ_AHEAD_SCAN)
    for (let at = 1; at < end && found < READ_AHEAD_SEGMENTS; at++) {
      const key = this.segmentKey(requests[at]!)
      if (key === undefined) continue
      first ??= this.segmentKey(requests[0]!)
      if (key === first) continue
      if (this.cache.get(key) === undefined && !this.cache.load(key, this.segmentLength(key), false)) return
      first = key
      found++
    }
  }

  /** The cache key of the segment holding `block`, or `undefined` if the block spans two. */
  private segmentKey(block: Block): number | undefined {
    const segment = Math.floor(block.begin / this.segmentBytes)
    if (Math.floor((block.begin + block.length - 1) / this.segmentBytes) !== segment) return undefined
    return block.index * this.segmentsPerPiece + segment
  }

  private segmentLength(key: number): number {
    const index = Math.floor(key / this.segmentsPerPiece)
    const start = (key % this.segmentsPerPiece) * this.segmentBytes
    return Math.min(this.segmentBytes, this.pieceLengthAt(index) - start)
  }
}

interface Segment {
  readonly key: number
  /** The segment's bytes: the start of `slot`. */
  readonly bytes: Uint8Array
  readonly slot: Uint8Array
  /** Settles when the read is done. */
  loading: Promise<void>
  ready: boolean
  /** Its read, and the blocks from it still queued on sockets: the slot is reused only at zero. */
  pins: number
  /** Out of the cache (evicted or failed): the slot goes back to the pool once unpinned. */
  dropped: boolean
  /** The slot went back to the pool (or to a new segment): never give it back twice. */
  released: boolean
}

/**
 * Least-recently-used segments in a fixed pool of buffers (`maxSlots` × `slotBytes`), allocated on first
 * need and then recycled. A peer waiting for a segment takes a slot beyond the pool when every slot is
 * pinned (given up as soon as nothing pins it any more); read-ahead never does.
 */
class SegmentCache {
  /** Oldest first. */
  private readonly segments = new Map<number, Segment>()
  private readonly free: Uint8Array[] = []
  private slots = 0

  constructor(
    private readonly slotBytes: number,
    private readonly maxSlots: number,
    private readonly read: (key: number, target: Uint8Array) => Promise<void>,
  ) {}

  get(key: number): Segment | undefined {
    return this.segments.get(key)
  }

  /** The segment, its read started if need be; `undefined` if not `urgent` and there is no room. */
  load(key: number, length: number, urgent: boolean): Segment | undefined {
    const cached = this.segments.get(key)
    if (cached !== undefined) {
      this.segments.delete(key)
      this.segments.set(key, cached)
      return cached
    }
    const slot = this.takeSlot(urgent)
    if (slot === undefined) return undefined
    const segment: Segment = {
      key,
      slot,
      bytes: slot.subarray(0, length),
      loading: Promise.resolve(),
      ready: false,
      pins: 1,
      dropped: false,
      released: false,
    }
    this.segments.set(key, segment)
    segment.loading = this.read(key, segment.bytes).then(
      () => {
        segment.ready = true
        this.unpin(segment)
      },
      (error: unknown) => {
        this.drop(segment)
        this.unpin(segment)
        throw error
      },
    )
    // Read-ahead nobody waits for yet must not be an unhandled rejection; waiters still see it.
    segment.loading.catch(() => {})
    return segment
  }

  pin(segment: Segment): void {
    segment.pins++
  }

  unpin(segment: Segment): void {
    segment.pins--
    if (segment.pins > 0) return
    // Back within the pool once the extra slots taken under pressure are free again.
    if (!segment.dropped && this.slots > this.maxSlots) this.drop(segment)
    else if (segment.dropped) this.release(segment)
  }

  private takeSlot(urgent: boolean): Uint8Array | undefined {
    const free = this.free.pop()
    if (free !== undefined) return free
    if (this.slots < this.maxSlots) {
      this.slots++
      return new Uint8Array(this.slotBytes)
    }
    for (const segment of this.segments.values()) {
      if (segment.pins === 0) {
        segment.dropped = true
        segment.released = true
        this.segments.delete(segment.key)
        return segment.slot
      }
    }
    if (!urgent) return undefined
    this.slots++
    return new Uint8Array(this.slotBytes)
  }

  /** Takes the segment out of the cache; its slot is recycled now or when its last pin goes. */
  private drop(segment: Segment): void {
    if (segment.dropped) return
    segment.dropped = true
    if (this.segments.get(segment.key) === segment) this.segments.delete(segment.key)
    if (segment.pins === 0) this.release(segment)
  }

  private release(segment: Segment): void {
    if (segment.released) return
    segment.released = true
    if (this.slots > this.maxSlots) this.slots--
    else this.free.push(segment.slot)
  }
}

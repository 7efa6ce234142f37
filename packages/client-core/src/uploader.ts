// Serving blocks to peers: requests are checked (verified pieces only, at most 16 KiB, inside the
// piece), queued per peer, read through a small cache of whole pieces (several peers usually want the
// same pieces), and written respecting socket backpressure. Cancelled requests are dropped unsent.

import type { PeerConnection } from '@bt/peer-wire'
import type { PieceStore } from '@bt/piece-store'
import { BLOCK_SIZE } from './block-requests.js'
import type { Block } from './piece-picker.js'
import type { RateMeter } from './rate.js'
import type { RateLimiter } from './rate-limiter.js'

/** Requests a peer may have queued with us; a peer asking for more is abusive. */
export const MAX_QUEUED_UPLOADS = 1000
/** Bytes queued on a peer's socket before we wait for it to drain. */
const UPLOAD_BUFFER_BYTES = 256 * 1024
/** A request this long is not a mistake: drop the peer. */
const ABUSIVE_LENGTH = 128 * 1024

export type RequestVerdict = 'queued' | 'rejected' | 'abusive'

export interface UploadQueue {
  readonly conn: PeerConnection
  readonly requests: Block[]
  sending: boolean
  /** What we send this peer (bytes/s), for choking while seeding. */
  readonly rate: RateMeter
}

export class Uploader {
  private readonly cache = new Map<number, Promise<Uint8Array>>()
  private cachedBytes = 0

  constructor(
    private readonly store: PieceStore,
    private readonly pieceLengthAt: (index: number) => number,
    private readonly pieceCount: number,
    private readonly onSent: (bytes: number, now: number) => void,
    /** Upload limits that apply (the torrent's, the client's). */
    private readonly limits: readonly RateLimiter[] = [],
    private readonly cacheBytes = 32 * 1024 * 1024,
  ) {}

  /** Checks a peer's request and queues it; says why not otherwise (reject it, or drop the peer). */
  request(queue: UploadQueue, block: Block): RequestVerdict {
    const { index, begin, length } = block
    if (length > ABUSIVE_LENGTH || queue.requests.length >= MAX_QUEUED_UPLOADS) return 'abusive'
    const valid =
      Number.isInteger(index) &&
      index >= 0 &&
      index < this.pieceCount &&
      length > 0 &&
      length <= BLOCK_SIZE &&
      begin >= 0 &&
      begin + length <= this.pieceLengthAt(index) &&
      this.store.have.has(index) &&
      !queue.conn.amChoking
    if (!valid) return 'rejected'
    queue.requests.push(block)
    void this.pump(queue)
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
    try {
      while (queue.requests.length > 0 && !queue.conn.closed) {
        const { index, begin, length } = queue.requests[0]!
        const piece = await this.piece(index)
        // Cancelled or choked while the piece was being read.
        if (queue.requests[0]?.index !== index || queue.requests[0]?.begin !== begin) continue
        queue.requests.shift()
        const wait = Math.max(0, ...this.limits.map((limit) => limit.take(length)))
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        if (queue.conn.closed) break
        const sent = queue.conn.piece(index, begin, piece.subarray(begin, begin + length))
        const now = Date.now()
        queue.rate.add(length, now)
        this.onSent(length, now)
        // The socket's own high-water mark (16 KiB) is one block: waiting on it would leave the link idle
        // between blocks. Keep up to a few blocks queued in user space instead.
        if (!sent && queue.conn.writableLength > UPLOAD_BUFFER_BYTES) await queue.conn.waitForDrain()
      }
    } catch {
      // A read failure or a closed connection: the peer just gets nothing more; the torrent goes on.
      queue.requests.length = 0
    } finally {
      queue.sending = false
    }
  }

  private piece(index: number): Promise<Uint8Array> {
    const cached = this.cache.get(index)
    if (cached) {
      // Most recently used last.
      this.cache.delete(index)
      this.cache.set(index, cached)
      return cached
    }
    const reading = this.store.readPiece(index)
    this.cache.set(index, reading)
    this.cachedBytes += this.pieceLengthAt(index)
    reading.catch(() => this.evict(index))
    while (this.cachedBytes > this.cacheBytes && this.cache.size > 1) {
      this.evict(this.cache.keys().next().value!)
    }
    return reading
  }

  private evict(index: number): void {
    if (this.cache.delete(index)) this.cachedBytes -= this.pieceLengthAt(index)
  }
}

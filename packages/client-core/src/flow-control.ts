// When to stop reading from peers: a peer whose block put us over the download limit pauses until the
// debt is paid, and every peer pauses while the store's write queue is over its high-water mark, so
// memory stays bounded by pieces in flight. Only peers that send data are paused for the limit, so the
// others' requests and extension messages (and our uploads to them) go on.
import type { PeerConnection } from '@bt/peer-wire'
import type { PieceStore } from '@bt/piece-store'
import type { RateLimiter } from './rate-limiter.js'

export interface FlowControlInit {
  store: PieceStore
  /** The torrent's own limit and the client's (which may be unlimited now and set later). */
  limits: readonly RateLimiter[]
  /** The connections to pause and resume. */
  connections(): Iterable<PeerConnection>
  signal: AbortSignal
}

export class FlowControl {
  private readonly init: FlowControlInit
  private readonly ratePaused = new WeakSet<PeerConnection>()
  private diskPaused = false

  constructor(init: FlowControlInit) {
    this.init = init
  }

  /** A new connection starts paused while the disk is behind. */
  opened(conn: PeerConnection): void {
    if (this.diskPaused) conn.pause()
  }

  /** `bytes` of payload arrived from `conn`: over the limit, it is not read until the debt is paid. */
  received(conn: PeerConnection, bytes: number): void {
    if (this.init.limits.every((limit) => limit.unlimited)) return
    const wait = Math.max(0, ...this.init.limits.map((limit) => limit.take(bytes)))
    if (wait === 0 || this.ratePaused.has(conn)) return
    this.ratePaused.add(conn)
    conn.pause()
    setTimeout(() => {
      this.ratePaused.delete(conn)
      if (!this.diskPaused) conn.resume()
    }, wait).unref()
  }

  /** A piece goes to the store: while its write queue is full, nobody is read from. */
  writing(): void {
    const store = this.init.store
    if (this.diskPaused || store.pendingBytes < store.highWaterMark) return
    this.diskPaused = true
    for (const conn of this.init.connections()) conn.pause()
    store.drained({ signal: this.init.signal }).then(
      () => {
        this.diskPaused = false
        this.resumeReading()
      },
      () => {},
    )
  }

  private resumeReading(): void {
    for (const conn of this.init.connections()) {
      // A resumed peer's buffered blocks may fill the write queue again: the rest wait for it then.
      if (this.diskPaused) return
      if (!this.ratePaused.has(conn)) conn.resume()
    }
  }
}

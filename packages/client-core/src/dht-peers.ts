// The DHT as a peer source of one swarm (BEP 5): on start and every 15 minutes a `get_peers` lookup
// followed by `announce_peer` to the closest nodes, sooner when the swarm's peer list runs dry, never
// more than one lookup at a time. Never for a private torrent (BEP 27): the caller does not create one.
import type { Dht } from '@bt/dht'
import type { PeerAddress } from '@bt/peer-address'
import type { Alert } from './alerts.js'

export interface DhtPeersInit {
  dht: Dht
  infoHash: Uint8Array
  /** Our listen port, announced to the nodes. */
  port: number
  /** BEP 33: we have the whole torrent. */
  seed(): boolean
  onPeers(peers: PeerAddress[]): void
  alert(alert: Alert): void
  /** Re-announce period. Default 15 min. */
  intervalMs?: number
  /** A lookup for a dry peer list waits this long after the previous one. Default 15 s. */
  minGapMs?: number
}

export class DhtPeers {
  private readonly init: DhtPeersInit
  private readonly controller = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private lastStarted = Number.NEGATIVE_INFINITY

  constructor(init: DhtPeersInit) {
    this.init = init
  }

  start(): void {
    this.lookUp()
  }

  /** The peer list ran dry: look up now, unless one ran less than `minGapMs` ago. */
  ranDry(): void {
    if (Date.now() - this.lastStarted >= (this.init.minGapMs ?? 15_000)) this.lookUp()
  }

  stop(): void {
    this.controller.abort()
    clearTimeout(this.timer)
  }

  private lookUp(): void {
    if (this.running || this.controller.signal.aborted) return
    this.lastStarted = Date.now()
    clearTimeout(this.timer)
    this.running = this.init.dht
      .announce(this.init.infoHash, {
        port: this.init.port,
        seed: this.init.seed(),
        signal: this.controller.signal,
        onPeer: (peer) => this.init.onPeers([peer]),
      })
      .then(
        () => {},
        (error: unknown) => {
          if (this.controller.signal.aborted) return
          this.init.alert({
            type: 'dht-failed',
            error: error instanceof Error ? error : new Error(String(error)),
          })
        },
      )
      .finally(() => {
        this.running = undefined
        if (this.controller.signal.aborted) return
        this.timer = setTimeout(() => this.lookUp(), this.init.intervalMs ?? 15 * 60_000)
        this.timer.unref()
      })
  }
}

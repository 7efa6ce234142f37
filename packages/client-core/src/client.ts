// A client: one identity (peer id, listen port) and one tracker transport shared by its torrents.
import type { Metainfo } from '@bt/metainfo'
import type { PieceStore } from '@bt/piece-store'
import { generatePeerId } from './peer-id.js'
import { type ConnectionBudget, Torrent, type TorrentInit } from './torrent.js'
import { createTrackerTransport, type TrackerTransport } from './tracker-transport.js'

export interface ClientInit {
  peerId?: Uint8Array
  /** The port announced to trackers. Default 6881. */
  port?: number
  /** Default: HTTP(S) and UDP trackers through @bt/tracker-http and @bt/tracker-udp. */
  transport?: TrackerTransport
  /** Peer connections across all torrents at most. Default 200. */
  maxConnections?: number
}

export type AddTorrentOptions = Omit<
  TorrentInit,
  'meta' | 'store' | 'peerId' | 'port' | 'transport' | 'connectionBudget'
> & {
  store: PieceStore
  /** Contact the torrent's trackers. Default true. */
  announce?: boolean
}

export class Client {
  readonly peerId: Uint8Array
  readonly port: number
  private readonly transport: TrackerTransport
  private readonly torrents = new Set<Torrent>()
  private readonly connectionBudget: ConnectionBudget

  constructor(init: ClientInit = {}) {
    this.peerId = init.peerId ?? generatePeerId()
    this.port = init.port ?? 6881
    this.transport = init.transport ?? createTrackerTransport()
    this.connectionBudget = { max: init.maxConnections ?? 200, used: 0 }
  }

  /** Adds a torrent and starts it. */
  add(meta: Metainfo, options: AddTorrentOptions): Torrent {
    const { announce = true, ...rest } = options
    const torrent = new Torrent({
      ...rest,
      meta,
      peerId: this.peerId,
      port: this.port,
      connectionBudget: this.connectionBudget,
      ...(announce ? { transport: this.transport } : {}),
    })
    this.torrents.add(torrent)
    torrent.start()
    return torrent
  }

  /** Stops every torrent (announcing `stopped`, flushing resume data) and releases the trackers' sockets. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.torrents].map((torrent) => torrent.stop()))
    this.torrents.clear()
    await this.transport.close()
  }
}

export function createClient(init: ClientInit = {}): Client {
  return new Client(init)
}

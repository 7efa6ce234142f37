// A client: one identity (peer id, listen port), one tracker transport, one connection budget and one
// ban list shared by its torrents and metadata fetches, and the listener that hands incoming peers to the
// torrent they ask for (a banned address is turned away before its handshake is read), plain or through
// MSE as the encryption policy allows. The listener is TCP and, unless turned off, uTP on the same port
// number (UDP), as libtorrent does; its uTP socket is also what torrents dial over first.
import { createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Dht } from '@bt/dht'
import type { MagnetLink, Metainfo } from '@bt/metainfo'
import { accept as acceptMse, req2Hash } from '@bt/mse'
import { acceptPeer, type PeerAddressLike } from '@bt/peer-wire'
import type { PieceStore } from '@bt/piece-store'
import { createUtpSocket, type UtpConnection, type UtpSocket } from '@bt/utp'
import { BanList } from './ban-list.js'
import { type ConnectionBudget, createConnectionBudget } from './connection-budget.js'
import { DEFAULT_ENCRYPTION, type EncryptionPolicy, incomingRules } from './encryption-policy.js'
import { DuplicateTorrentError } from './errors.js'
import { MetadataFetch, type MetadataFetchInit } from './metadata-fetch.js'
import type { PeerTransport } from './peer-dialer.js'
import { generatePeerId } from './peer-id.js'
import { RateLimiter } from './rate-limiter.js'
import { createTicker } from './ticker.js'
import { Torrent, type TorrentInit } from './torrent.js'
import { createTrackerTransport, type TrackerTransport } from './tracker-transport.js'

export interface ClientInit {
  peerId?: Uint8Array
  /** The port announced to trackers when not listening. Default 6881; `listen()` replaces it. */
  port?: number
  /** Default: HTTP(S) and UDP trackers through @bt/tracker-http and @bt/tracker-udp. */
  transport?: TrackerTransport
  /** Peer connections across all torrents at most. Default 200. */
  maxConnections?: number
  /** Bytes per second across all torrents, per direction (0: unlimited). */
  uploadLimit?: number
  downloadLimit?: number
  /** How long a banned address stays banned. Default 1 hour. */
  banMs?: number
  /**
   * A started DHT node (`@bt/dht`), shared by every torrent and metadata fetch as a peer source. The
   * caller owns it (starts, saves and closes it); it usually listens on the client's port number, UDP.
   */
  dht?: Dht
  /**
   * Message stream encryption (MSE/PE) for every torrent and fetch, dialling and accepting: `prefer`
   * (default), `require`, `allow` or `off` — see `EncryptionPolicy`.
   */
  encryption?: EncryptionPolicy
  /** How long an incoming peer has for its MSE and BitTorrent handshakes, each. Default 10 s. */
  handshakeTimeoutMs?: number
  /**
   * uTP (BEP 29): `listen()` also opens a uTP socket on the listen port number (UDP), accepts peers on
   * it like TCP ones, and torrents dial over it first (TCP after a 3 s silence). Default true.
   */
  utp?: boolean
}

export interface RemoveTorrentOptions {
  /** Also delete the torrent's downloaded files and resume data (`PieceStore.destroy`). Default false. */
  deleteData?: boolean
}

export type AddTorrentOptions = Omit<
  TorrentInit,
  | 'meta'
  | 'store'
  | 'peerId'
  | 'port'
  | 'transport'
  | 'connectionBudget'
  | 'sharedLimits'
  | 'bans'
  | 'dht'
  | 'ticker'
  | 'utp'
> & {
  store: PieceStore
  /** Contact the torrent's trackers. Default true. */
  announce?: boolean
}

export type FetchMetadataOptions = Omit<
  MetadataFetchInit,
  'magnet' | 'peerId' | 'port' | 'transport' | 'connectionBudget' | 'bans' | 'dht' | 'ticker' | 'utp'
> & {
  /** Contact the magnet's trackers. Default true. */
  announce?: boolean
}

export class Client {
  readonly peerId: Uint8Array
  private listenPort: number
  private server: Server | undefined
  private utpSocket: UtpSocket | undefined
  private readonly utpEnabled: boolean
  private readonly transport: TrackerTransport
  private readonly active = new Set<Torrent>()
  private readonly byInfoHash = new Map<string, Torrent>()
  /** Magnet links whose metadata is being fetched, by info hash. */
  private readonly fetching = new Map<string, MetadataFetch>()
  private readonly connectionBudget: ConnectionBudget
  /** Addresses banned by any torrent or fetch: turned away by all of them. */
  readonly bans: BanList
  private readonly sharedLimits: { upload: RateLimiter; download: RateLimiter }
  private dht: Dht | undefined
  /** One timer for every torrent and fetch of the client. */
  private readonly ticker = createTicker()
  private policy: EncryptionPolicy
  private readonly handshakeTimeoutMs: number
  /** Info hashes (hex) by `HASH('req2', infoHash)` (hex): how an MSE peer names its torrent. */
  private readonly byReq2 = new Map<string, string>()

  constructor(init: ClientInit = {}) {
    this.peerId = init.peerId ?? generatePeerId()
    this.listenPort = init.port ?? 6881
    this.transport = init.transport ?? createTrackerTransport()
    this.connectionBudget = createConnectionBudget(init.maxConnections ?? 200)
    this.bans = new BanList(init.banMs !== undefined ? { banMs: init.banMs } : {})
    this.dht = init.dht
    this.policy = init.encryption ?? DEFAULT_ENCRYPTION
    this.handshakeTimeoutMs = init.handshakeTimeoutMs ?? 10_000
    this.utpEnabled = init.utp ?? true
    this.sharedLimits = {
      upload: new RateLimiter(init.uploadLimit ?? 0),
      download: new RateLimiter(init.downloadLimit ?? 0),
    }
  }

  /**
   * Gives the client its DHT node after all (one that listens on the port `listen()` found): torrents
   * and fetches started from now on use it. The caller still owns the node.
   */
  useDht(dht: Dht): void {
    this.dht = dht
  }

  /** The encryption policy (see `EncryptionPolicy`). */
  get encryption(): EncryptionPolicy {
    return this.policy
  }

  /**
   * Changes the encryption policy at once for incoming peers and for the next dial of every torrent and
   * fetch (ones given their own `encryption` keep it); open connections stay as they are.
   */
  setEncryption(policy: EncryptionPolicy): void {
    this.policy = policy
  }

  private readonly currentPolicy = () => this.policy
  private readonly currentUtp = () => this.utpSocket

  /**
   * The uTP socket `listen()` opened (undefined before, or with `utp: false`). A DHT may share its UDP
   * port through `utp.datagrams()`: uTP and KRPC datagrams are told apart by their first byte.
   */
  get utp(): UtpSocket | undefined {
    return this.utpSocket
  }

  /** The port announced to trackers: the listening port once `listen()` resolved. */
  get port(): number {
    return this.listenPort
  }

  /**
   * Accepts incoming peers on `port` (0: any free port) and `host` (default: every interface), over TCP
   * and (unless `utp: false`) over uTP on the same port number; resolves with the port. Call before
   * adding torrents, so they announce it. With port 0, a port whose UDP twin is taken is given back and
   * another one tried; a fixed port whose UDP side is taken fails with `UtpBindError`.
   */
  async listen(options: { port?: number; host?: string } = {}): Promise<number> {
    if (this.server) return this.listenPort
    const port = options.port ?? 0
    for (let attempt = 1; ; attempt++) {
      const server = await listenTcp(port, options.host, (socket) => this.acceptTcp(socket))
      const address = server.address()
      const bound = address && typeof address === 'object' ? address.port : port
      if (!this.utpEnabled) {
        this.server = server
        this.listenPort = bound
        return bound
      }
      try {
        const utp = await createUtpSocket({
          port: bound,
          ...(options.host !== undefined ? { host: options.host } : {}),
        })
        utp.on('connection', (connection) => this.acceptUtp(connection))
        // Send errors (an unreachable peer) are the connection's business; the socket stays up.
        utp.on('error', () => {})
        this.server = server
        this.utpSocket = utp
        this.listenPort = bound
        return bound
      } catch (error) {
        await new Promise((resolve) => server.close(resolve))
        if (port !== 0 || attempt >= MAX_LISTEN_ATTEMPTS) throw error
      }
    }
  }

  private acceptTcp(socket: Socket): void {
    socket.on('error', () => {})
    const remoteAddress = { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }
    this.accept(socket, remoteAddress, 'tcp')
  }

  private acceptUtp(connection: UtpConnection): void {
    connection.on('error', () => {})
    const remoteAddress = { host: connection.remoteAddress, port: connection.remotePort }
    this.accept(connection, remoteAddress, 'utp')
  }

  private accept(stream: Duplex, remoteAddress: PeerAddressLike, transport: PeerTransport): void {
    if (this.bans.isBanned(remoteAddress.host)) {
      stream.destroy()
      return
    }
    this.handshake(stream, remoteAddress).then(
      (conn) => {
        // Looked up again: the torrent may have been stopped (or its metadata fetched) meanwhile.
        const owner = this.ownerOf(conn.infoHash)
        if (owner) owner.attach(conn, transport)
        else conn.close()
      },
      () => {},
    )
  }

  /**
   * The incoming peer's MSE handshake (unless encryption is off), then its BitTorrent handshake: for
   * the torrent MSE named, if it used MSE (a peer may not switch torrents between the two).
   */
  private async handshake(stream: Duplex, remoteAddress: PeerAddressLike) {
    const options = { handshakeTimeoutMs: this.handshakeTimeoutMs, remoteAddress }
    if (this.policy === 'off') {
      return acceptPeer(stream, { findTorrent: (infoHash) => this.ownerOf(infoHash)?.peerInit }, options)
    }
    const accepted = await acceptMse(
      stream,
      {
        ...incomingRules(this.policy),
        findInfoHash: (req2) => {
          const hex = this.byReq2.get(Buffer.from(req2).toString('hex'))
          const infoHash = hex === undefined ? undefined : Buffer.from(hex, 'hex')
          return infoHash !== undefined && this.ownerOf(infoHash) !== undefined ? infoHash : undefined
        },
      },
      { timeoutMs: this.handshakeTimeoutMs },
    )
    const named = accepted.protocol === 'mse' ? Buffer.from(accepted.infoHash) : undefined
    return acceptPeer(
      accepted.stream,
      {
        findTorrent: (infoHash) =>
          named === undefined || named.equals(infoHash) ? this.ownerOf(infoHash)?.peerInit : undefined,
      },
      options,
    )
  }

  private indexReq2(infoHash: string): void {
    this.byReq2.set(Buffer.from(req2Hash(Buffer.from(infoHash, 'hex'))).toString('hex'), infoHash)
  }

  private unindexReq2(infoHash: string): void {
    if (this.byInfoHash.has(infoHash) || this.fetching.has(infoHash)) return
    this.byReq2.delete(Buffer.from(req2Hash(Buffer.from(infoHash, 'hex'))).toString('hex'))
  }

  /** What an incoming peer's info hash is for: a torrent, or a magnet link whose metadata is being fetched. */
  private ownerOf(infoHash: Uint8Array): Torrent | MetadataFetch | undefined {
    const hex = Buffer.from(infoHash).toString('hex')
    return this.byInfoHash.get(hex) ?? this.fetching.get(hex)
  }

  /**
   * Starts fetching a magnet link's info dictionary from peers (BEP 9); `done` resolves with the metadata,
   * verified against the info hash, and the peers found, to pass on to `add`.
   */
  fetchMetadata(magnet: MagnetLink, options: FetchMetadataOptions = {}): MetadataFetch {
    const running = this.fetching.get(magnet.infoHash)
    if (running) return running
    const { announce = true, ...rest } = options
    const fetch = new MetadataFetch({
      encryption: this.currentPolicy,
      utp: this.currentUtp,
      ...rest,
      magnet,
      peerId: this.peerId,
      port: this.listenPort,
      connectionBudget: this.connectionBudget,
      bans: this.bans,
      ticker: this.ticker,
      ...(this.dht ? { dht: this.dht } : {}),
      ...(announce ? { transport: this.transport } : {}),
    })
    this.fetching.set(magnet.infoHash, fetch)
    this.indexReq2(magnet.infoHash)
    const forget = () => {
      if (this.fetching.get(magnet.infoHash) === fetch) this.fetching.delete(magnet.infoHash)
      this.unindexReq2(magnet.infoHash)
    }
    fetch.done.then(forget, forget)
    fetch.start()
    return fetch
  }

  /** Adds a torrent and starts it; `DuplicateTorrentError` if its info hash is here already. */
  add(meta: Metainfo, options: AddTorrentOptions): Torrent {
    if (this.byInfoHash.has(meta.infoHash)) throw new DuplicateTorrentError(meta.infoHash)
    const { announce = true, ...rest } = options
    const torrent = new Torrent({
      encryption: this.currentPolicy,
      utp: this.currentUtp,
      ...rest,
      meta,
      peerId: this.peerId,
      port: this.listenPort,
      connectionBudget: this.connectionBudget,
      bans: this.bans,
      sharedLimits: this.sharedLimits,
      ticker: this.ticker,
      ...(this.dht ? { dht: this.dht } : {}),
      ...(announce ? { transport: this.transport } : {}),
    })
    this.active.add(torrent)
    this.byInfoHash.set(meta.infoHash, torrent)
    this.indexReq2(meta.infoHash)
    torrent.start()
    return torrent
  }

  /** Changes the client-wide limits (bytes per second, 0: unlimited) for every torrent, at once. */
  setRateLimits(limits: { upload?: number; download?: number }): void {
    if (limits.upload !== undefined) this.sharedLimits.upload.setRate(limits.upload)
    if (limits.download !== undefined) this.sharedLimits.download.setRate(limits.download)
  }

  /** Changes the client-wide cap on connections: above it new peers wait until some close. */
  setMaxConnections(max: number): void {
    this.connectionBudget.setMax(max)
  }

  /** The torrents added and not removed, in the order they were added. */
  get torrents(): Torrent[] {
    return [...this.active]
  }

  /** The torrent of this info hash (hex), if it was added. */
  get(infoHash: string): Torrent | undefined {
    return this.byInfoHash.get(infoHash.toLowerCase())
  }

  /**
   * Stops a torrent (trackers told, resume data flushed) and forgets it: its info hash may be added
   * again. With `deleteData`, its downloaded files and resume data are deleted too.
   */
  async remove(torrent: Torrent, options: RemoveTorrentOptions = {}): Promise<void> {
    if (!this.active.delete(torrent)) return
    if (this.byInfoHash.get(torrent.meta.infoHash) === torrent) this.byInfoHash.delete(torrent.meta.infoHash)
    this.unindexReq2(torrent.meta.infoHash)
    await torrent.stop()
    if (options.deleteData) await torrent.store.destroy()
  }

  /**
   * Stops every torrent (announcing `stopped`, flushing resume data) and releases the trackers' sockets
   * and the listeners (the uTP socket's UDP port too: close a DHT sharing it first).
   */
  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    const closed = server ? new Promise((resolve) => server.close(resolve)) : undefined
    for (const fetch of this.fetching.values()) fetch.stop()
    await Promise.allSettled([...this.active].map((torrent) => torrent.stop()))
    this.active.clear()
    this.byInfoHash.clear()
    this.byReq2.clear()
    await closed
    const utp = this.utpSocket
    this.utpSocket = undefined
    await utp?.close()
    await this.transport.close()
  }
}

/** Tries of a free port (`listen({ port: 0 })`) whose UDP twin is free too. */
const MAX_LISTEN_ATTEMPTS = 8

function listenTcp(
  port: number,
  host: string | undefined,
  onSocket: (socket: Socket) => void,
): Promise<Server> {
  const server = createServer(onSocket)
  return new Promise<Server>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      // A listener error after start (EMFILE…) must not crash the process; the next accept may work.
      server.on('error', () => {})
      resolve(server)
    })
  })
}

export function createClient(init: ClientInit = {}): Client {
  return new Client(init)
}

// Fetching a magnet link's info dictionary from peers (BEP 9 over BEP 10). Peers come from the magnet's
// trackers (announced with a non-zero `left`: we need everything), its `x.pe` peers, the caller and PEX.
// Until the dictionary is known we send nothing but extension messages: there is nothing to be
// interested in yet. Pieces are requested from several peers at once; the whole is checked against the
// info hash before anything uses it. A piece set that fails the check, from one peer, bans that peer;
// from several, every peer is then asked for a whole copy of its own, so the liar is found by itself.
import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { Dht } from '@bt/dht'
import { type MagnetLink, type Metainfo, parseInfoDict } from '@bt/metainfo'
import { type PeerAddress, parsePeerAddress } from '@bt/peer-address'
import {
  createExtensionRegistry,
  type ExtensionRegistry,
  type PeerConnection,
  type PeerConnectionInit,
  reservedBytes,
} from '@bt/peer-wire'
import { stopOnAbort, unboundedAbortController } from './abort.js'
import type { Alert, BanReason } from './alerts.js'
import { type Announcer, ownedAnnouncer } from './announcer.js'
import { BanList } from './ban-list.js'
import { type ConnectionBudget, createConnectionBudget } from './connection-budget.js'
import { DhtPeers } from './dht-peers.js'
import { InvalidMetadataError, TorrentStoppedError } from './errors.js'
import type { PeerTransport } from './peer-dialer.js'
import { CLIENT_NAME } from './peer-id.js'
import type { PeerSource } from './peer-list.js'
import { PeerExchange } from './pex.js'
import { type DialOptions, dialOptions, Swarm, type SwarmPeer } from './swarm.js'
import { createTicker, type Ticker } from './ticker.js'
import type { TrackerTransport } from './tracker-transport.js'
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  MAX_METADATA_SIZE,
  METADATA_PIECE_SIZE,
  type MetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
  UT_METADATA,
} from './ut-metadata.js'

export interface MetadataFetchInit extends DialOptions {
  magnet: MagnetLink
  peerId: Uint8Array
  /** The port announced to trackers. */
  port: number
  /** Without it, trackers are not contacted. */
  transport?: TrackerTransport
  /** The client's DHT node: a magnet with no tracker finds its peers there. */
  dht?: Dht
  /** The client's one timer (default: one of the fetch's own). */
  ticker?: Ticker
  /** Peers to dial besides the magnet's `x.pe` and what trackers return. */
  peers?: readonly PeerAddress[]
  /** Connected peers at most. Default 30. */
  maxConnections?: number
  /** The client's cap on connections: this fetch's `maxConnections` come out of it. */
  connectionBudget?: ConnectionBudget
  /** The client's banned addresses. Default: a list of the fetch's own. */
  bans?: BanList
  signal?: AbortSignal
  /** A metadata request unanswered this long drops the peer. Default 20 s. */
  requestTimeoutMs?: number
  /**
   * A peer that has not said it has the metadata (`metadata_size`) this long after connecting gives
   * its slot to another; it may be dialled again later. Default 30 s.
   */
  metadataWaitMs?: number
  /** Re-announce floor (tests shrink it). Default 30 s. */
  minAnnounceIntervalMs?: number
}

export interface MetadataFetchResult {
  meta: Metainfo
  /** Peers learned along the way that were not banned: the download starts with them. */
  peers: PeerAddress[]
}

export interface MetadataFetchEvents {
  /** Something the fetch survives (a peer lied or was dropped, a tracker is down): see `Alert`. */
  alert: [Alert]
  /** Connected peers changed; `withMetadata` of them said they have it. */
  peers: [connected: number, withMetadata: number]
}

/** Metadata requests outstanding per peer. */
const PIPELINE = 4
/** Answers to requests we never made (or data that does not fit) before a peer is dropped. */
const MAX_UNASKED = 4

/** The info dictionary of one claimed size, filling up from one or several peers. */
interface Assembly {
  readonly size: number
  /**
   * The pieces received, joined once all are in: memory follows what peers really sent, not the size
   * they claim (30 peers each claiming 10 MiB must not cost 300 MB up front).
   */
  readonly pieces: (Uint8Array | undefined)[]
  /** Who sent each piece (undefined: not yet received). */
  readonly senders: (FetchSession | undefined)[]
  received: number
}

interface FetchSession extends SwarmPeer {
  /** Piece → when we asked this peer for it. */
  readonly asked: Map<number, number>
  assembly: Assembly | undefined
  unasked: number
}

/** A peer that has not offered the metadata this long gives its slot to a waiting candidate. */
const MIN_ROTATION_MS = 10_000

export class MetadataFetch extends EventEmitter<MetadataFetchEvents> {
  /** Resolves with the verified metadata; rejects when stopped first, or on `InvalidMetadataError`. */
  readonly done: Promise<MetadataFetchResult>
  /** The registry connections of this fetch advertise; the client's listener uses it for incoming peers. */
  readonly extensions: ExtensionRegistry

  private readonly init: MetadataFetchInit
  private readonly swarm: Swarm<FetchSession>
  private readonly bans: BanList
  private readonly shared = new Map<number, Assembly>()
  /** Set after a multi-peer assembly failed its check: every peer then fills an assembly of its own. */
  private solo = false
  private readonly announcer: Announcer | undefined
  private readonly dhtPeers: DhtPeers | undefined
  private readonly stopController = unboundedAbortController()
  /** Stops this owner's ticks (a no-op until it started). */
  private untick: () => void = () => {}
  private started = false
  private resolveDone!: (result: MetadataFetchResult) => void
  private rejectDone!: (error: Error) => void

  constructor(init: MetadataFetchInit) {
    super()
    this.init = init
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve
      this.rejectDone = reject
    })
    this.done.catch(() => {})
    this.extensions = createExtensionRegistry([
      {
        name: UT_METADATA,
        onHandshake: (conn) => this.onHandshake(conn),
        onMessage: (conn, payload) => this.onMetadataMessage(conn, payload),
      },
      // Peers of the swarm tell us about others (BEP 11); a magnet does not say whether the torrent is
      // private, and learning addresses shares nothing of ours.
      new PeerExchange({ onPeers: (peers) => this.addPeers(peers, 'pex') }).extension,
    ])
    this.bans = init.bans ?? new BanList()
    this.swarm = new Swarm<FetchSession>({
      connectionInit: { ...this.peerInit, infoHash: init.magnet.infoHashBytes },
      budget: createConnectionBudget(init.maxConnections ?? 30, init.connectionBudget),
      bans: this.bans,
      signal: this.stopController.signal,
      ...dialOptions(init),
      wantsPeers: () => this.started,
      createSession: (peer) => ({ ...peer, asked: new Map(), assembly: undefined, unasked: 0 }),
      sessionOpened: (session) => this.opened(session),
      sessionClosed: () => this.closed(),
      alert: (alert) => this.emit('alert', alert),
      dropReason: (session, now) =>
        !session.assembly && now - session.openedAt >= MIN_ROTATION_MS ? 'no-metadata' : undefined,
      ranDry: () => {
        this.announcer?.requestPeers()
        this.dhtPeers?.ranDry()
      },
    })
    this.swarm.peers.addAll([...(init.peers ?? []), ...magnetPeerAddresses(init.magnet)], 'manual')
    // A magnet does not say whether the torrent is private; the DHT is what trackerless magnets rely on.
    this.dhtPeers = init.dht
      ? new DhtPeers({
          dht: init.dht,
          infoHash: init.magnet.infoHashBytes,
          port: init.port,
          seed: () => false,
          onPeers: (peers) => this.addPeers(peers, 'dht'),
          alert: (alert) => this.emit('alert', alert),
        })
      : undefined
    if (init.transport && init.magnet.trackers.length > 0) {
      this.announcer = ownedAnnouncer(
        {
          tiers: init.magnet.trackers.map((url) => [url]),
          infoHash: init.magnet.infoHashBytes,
          peerId: init.peerId,
          port: init.port,
          // The size is unknown: `left` must still say we need data, or trackers count us as a seed.
          stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
          transport: init.transport,
          minAnnounceIntervalMs: init.minAnnounceIntervalMs,
        },
        this,
      )
    }
  }

  /** What our side of every connection says (for the client's listener too). */
  get peerInit(): Omit<PeerConnectionInit, 'infoHash'> {
    return {
      peerId: this.init.peerId,
      // Extension protocol only: with the fast extension we would owe the peer a have-none first.
      reserved: reservedBytes({ extended: true }),
      extensions: this.extensions,
      extendedHandshake: { version: CLIENT_NAME, listenPort: this.init.port },
    }
  }

  get infoHash(): string {
    return this.init.magnet.infoHash
  }

  start(): void {
    if (this.started) return
    this.started = true
    stopOnAbort(this.init.signal, this.stopController.signal, () => this.stop())
    this.announcer?.start()
    this.dhtPeers?.start()
    this.untick = (this.init.ticker ?? createTicker()).add(() => this.tick())
    this.swarm.dial()
  }

  /** Adds peers to dial; returns how many were new. */
  addPeers(peers: readonly PeerAddress[], source: Exclude<PeerSource, 'incoming'> = 'manual'): number {
    return this.swarm.add(peers, source)
  }

  /** Takes over a connection a peer opened to us (made with `extensions` and no piece count). */
  attach(conn: PeerConnection, transport: PeerTransport = 'tcp'): void {
    this.swarm.accept(conn, transport)
  }

  /** Gives up: closes every connection, stops announcing; `done` rejects with `TorrentStoppedError`. */
  stop(): void {
    this.finish(new TorrentStoppedError(this.infoHash, 'metadata fetch'))
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted
  }

  private opened(session: FetchSession): void {
    if (!session.conn.negotiated.extended) {
      this.swarm.drop(session, 'no-metadata', 'does not support the extension protocol', false)
    } else this.reportPeers()
  }

  private closed(): void {
    if (this.stopped) return
    this.reportPeers()
    for (const other of this.swarm.sessions()) this.fill(other)
  }

  private reportPeers(): void {
    let withMetadata = 0
    for (const session of this.swarm.sessions()) if (session.assembly) withMetadata++
    this.emit('peers', this.swarm.size, withMetadata)
  }

  private onHandshake(conn: PeerConnection): void {
    const session = this.swarm.sessionOf(conn)
    if (!session || session.assembly) return
    const handshake = conn.extendedHandshake
    if (!handshake?.m.has(UT_METADATA)) {
      this.swarm.drop(session, 'no-metadata', 'does not serve metadata (no ut_metadata)', false)
      return
    }
    const size = handshake.metadataSize
    // Without `metadata_size` the peer does not have the metadata yet; it may tell us in an update.
    if (size === undefined) return
    if (size > MAX_METADATA_SIZE) {
      this.ban(
        session,
        'metadata-protocol',
        `claims a ${size}-byte info dictionary (over ${MAX_METADATA_SIZE})`,
      )
      return
    }
    session.assembly = this.assemblyFor(size)
    this.reportPeers()
    this.fill(session)
  }

  private assemblyFor(size: number): Assembly {
    const fresh = (): Assembly => ({
      size,
      pieces: new Array(metadataPieceCount(size)),
      senders: new Array(metadataPieceCount(size)),
      received: 0,
    })
    if (this.solo) return fresh()
    let assembly = this.shared.get(size)
    if (!assembly) {
      assembly = fresh()
      this.shared.set(size, assembly)
    }
    return assembly
  }

  /** Asks the peer for pieces of its assembly nobody is fetching, then (end game) for ones others are slow on. */
  private fill(session: FetchSession): void {
    const assembly = session.assembly
    if (!assembly || session.conn.closed || this.stopped) return
    const count = assembly.senders.length
    const wanted: number[] = []
    const inFlight = this.inFlight(assembly)
    for (let piece = 0; piece < count && session.asked.size + wanted.length < PIPELINE; piece++) {
      if (assembly.senders[piece] === undefined && !inFlight.has(piece)) wanted.push(piece)
    }
    for (let piece = 0; piece < count && session.asked.size + wanted.length < PIPELINE; piece++) {
      if (assembly.senders[piece] === undefined && inFlight.has(piece) && !session.asked.has(piece))
        wanted.push(piece)
    }
    const now = Date.now()
    for (const piece of wanted) {
      session.asked.set(piece, now)
      this.send(session, { type: 'request', piece })
    }
  }

  private inFlight(assembly: Assembly): Set<number> {
    const pieces = new Set<number>()
    for (const session of this.swarm.sessions())
      if (session.assembly === assembly) for (const piece of session.asked.keys()) pieces.add(piece)
    return pieces
  }

  private send(session: FetchSession, message: MetadataMessage): void {
    if (!session.conn.closed) session.conn.sendExtended(UT_METADATA, encodeMetadataMessage(message))
  }

  private onMetadataMessage(conn: PeerConnection, payload: Uint8Array): void {
    const session = this.swarm.sessionOf(conn)
    if (!session) return
    let message: MetadataMessage | undefined
    try {
      message = decodeMetadataMessage(payload)
    } catch (error) {
      this.ban(session, 'metadata-protocol', (error as Error).message)
      return
    }
    if (message === undefined) return
    switch (message.type) {
      case 'request':
        // We have nothing to serve yet (BEP 9: reject).
        if (conn.extendedHandshake?.m.has(UT_METADATA))
          this.send(session, { type: 'reject', piece: message.piece })
        return
      case 'reject':
        // Busy or without the metadata after all: its slot goes to another peer; it may be asked later.
        if (session.asked.has(message.piece))
          this.swarm.drop(session, 'no-metadata', 'rejected a metadata request', false)
        return
      case 'data':
        this.onData(session, message)
        return
    }
  }

  private onData(session: FetchSession, message: Extract<MetadataMessage, { type: 'data' }>): void {
    const assembly = session.assembly
    const { piece } = message
    if (!assembly || !session.asked.delete(piece)) {
      if (++session.unasked > MAX_UNASKED)
        this.ban(session, 'metadata-protocol', 'sent metadata nobody asked for')
      return
    }
    if (message.totalSize !== assembly.size) {
      this.ban(
        session,
        'metadata-protocol',
        `said the metadata is ${assembly.size} bytes, then ${message.totalSize}`,
      )
      return
    }
    if (message.data.length !== metadataPieceLength(assembly.size, piece)) {
      this.ban(session, 'metadata-protocol', `sent metadata piece ${piece} with ${message.data.length} bytes`)
      return
    }
    if (assembly.senders[piece] === undefined) {
      assembly.pieces[piece] = message.data
      assembly.senders[piece] = session
      assembly.received++
      if (assembly.received === assembly.senders.length) {
        this.assembled(assembly)
        return
      }
    }
    this.refill()
  }

  private assembled(assembly: Assembly): void {
    const data = new Uint8Array(assembly.size)
    for (const [index, piece] of assembly.pieces.entries()) data.set(piece!, index * METADATA_PIECE_SIZE)
    const hash = createHash('sha1').update(data).digest('hex')
    if (hash === this.init.magnet.infoHash) {
      let meta: Metainfo
      try {
        meta = parseInfoDict(data, {
          trackers: this.init.magnet.trackers,
          webSeeds: this.init.magnet.webSeeds,
        })
      } catch (error) {
        this.finish(new InvalidMetadataError(this.infoHash, error as Error))
        return
      }
      this.finish(undefined, meta)
      return
    }
    const senders = new Set(assembly.senders as FetchSession[])
    for (const [size, shared] of this.shared) if (shared === assembly) this.shared.delete(size)
    if (senders.size === 1) {
      const [liar] = senders
      this.ban(liar!, 'metadata-mismatch', 'sent metadata that does not match the info hash')
    } else {
      this.emit('alert', { type: 'metadata-failed', peers: [...senders].map((sender) => sender.address) })
      this.solo = true
    }
    // Everyone on the failed assembly starts over (the banned peer is gone by now).
    for (const session of this.swarm.sessions()) {
      if (session.assembly !== assembly) continue
      session.asked.clear()
      session.assembly = this.assemblyFor(assembly.size)
    }
    this.refill()
  }

  private refill(): void {
    for (const session of this.swarm.sessions()) this.fill(session)
  }

  private tick(): void {
    const now = Date.now()
    const timeout = this.init.requestTimeoutMs ?? 20_000
    const wait = this.init.metadataWaitMs ?? 30_000
    for (const session of [...this.swarm.sessions()]) {
      if (!session.assembly && now - session.openedAt >= wait) {
        this.swarm.drop(session, 'no-metadata', `did not offer the metadata within ${wait / 1000} s`, false)
        continue
      }
      for (const at of session.asked.values()) {
        if (now - at >= timeout) {
          const detail = `did not answer a metadata request in ${timeout / 1000} s`
          this.swarm.drop(session, 'metadata-timeout', detail, true)
          break
        }
      }
    }
    this.swarm.tick(now)
  }

  private ban(session: FetchSession, reason: BanReason, detail: string): void {
    this.swarm.ban(session, reason, detail)
  }

  private finish(error: Error | undefined, meta?: Metainfo): void {
    if (this.stopped) return
    this.stopController.abort(error ?? new Error('metadata fetch finished'))
    this.untick()
    this.dhtPeers?.stop()
    if (meta) {
      // The torrent that takes over announces `started` itself: no `stopped` in between.
      this.announcer?.handOff()
      const peers = [...this.swarm.peers.all()]
        .filter((peer) => peer.dialable && !this.bans.isBanned(peer.address.host))
        .map((peer) => peer.address)
      this.resolveDone({ meta, peers })
    } else {
      void this.announcer?.stop()
      this.rejectDone(error!)
    }
  }
}

/** A magnet link's `x.pe` peers that are IP literals: one naming a host by DNS name is skipped. */
export function magnetPeerAddresses(magnet: MagnetLink): PeerAddress[] {
  const peers: PeerAddress[] = []
  for (const text of magnet.peers) {
    try {
      peers.push(parsePeerAddress(text))
    } catch {
      // Not an IP literal: we dial IP addresses only.
    }
  }
  return peers
}

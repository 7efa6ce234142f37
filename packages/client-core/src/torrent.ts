// One torrent: its swarm of peers (dialled and accepted under the client's budget), the picker that
// decides which blocks each peer is asked for, pieces verified and written by the piece store, liars
// found out by the smart ban, uploads and choking, trackers and PEX as peer sources. The policies live
// in their own modules; this class coordinates them and owns the lifecycle, the events and the progress.

import { EventEmitter } from 'node:events'
import { Bitfield } from '@bt/bitfield'
import type { Dht } from '@bt/dht'
import type { Metainfo } from '@bt/metainfo'
import { canonicalIp, type PeerAddress } from '@bt/peer-address'
import {
  createExtensionRegistry,
  type PeerConnection,
  type PeerConnectionInit,
  type PeerMessage,
  reservedBytes,
} from '@bt/peer-wire'
import { isPieceHashMismatchError, type PieceStore } from '@bt/piece-store'
import { stopOnAbort, unboundedAbortController } from './abort.js'
import type { Alert, DropReason } from './alerts.js'
import { type Announcer, ownedAnnouncer } from './announcer.js'
import { BanList } from './ban-list.js'
import { type AssembledPiece, BlockIntake, type BlockOutcome } from './block-intake.js'
import { blockCount, isSnubbed, queueDepth } from './block-requests.js'
import { chooseUnchoked } from './choker.js'
import { type ConnectionBudget, createConnectionBudget } from './connection-budget.js'
import { DhtPeers } from './dht-peers.js'
import { TorrentStoppedError } from './errors.js'
import { defaultFilePriorities, type FilePriority, wantedPieces } from './file-priorities.js'
import { FlowControl } from './flow-control.js'
import type { PeerTransport } from './peer-dialer.js'
import { CLIENT_NAME } from './peer-id.js'
import type { PeerSource } from './peer-list.js'
import { PeerExchange } from './pex.js'
import { PiecePicker } from './piece-picker.js'
import { RateMeter } from './rate.js'
import { RateLimiter } from './rate-limiter.js'
import { SmartBan, type SmartBanVerdict } from './smart-ban.js'
import { StreamReaders } from './stream-readers.js'
import { type DialOptions, dialOptions, Swarm, type SwarmPeer } from './swarm.js'
import { createTicker, type Ticker } from './ticker.js'
import type { TrackerTransport } from './tracker-transport.js'
import { MAX_QUEUED_UPLOADS, Uploader, type UploadQueue } from './uploader.js'
import { metadataServer } from './ut-metadata.js'
import { WebSeeding, type WebSeedSender } from './web-seeding.js'

export interface TorrentInit extends DialOptions {
  meta: Metainfo
  store: PieceStore
  peerId: Uint8Array
  /** The port announced to trackers (where we accept peers). */
  port: number
  /** Tracker transport shared by the client's torrents; without it, trackers are not contacted. */
  transport?: TrackerTransport
  /** The client's DHT node: a peer source (never for a private torrent), and BEP 5 `port` messages. */
  dht?: Dht
  /** The client's one timer (default: one of the torrent's own). */
  ticker?: Ticker
  /** Peers to dial besides what trackers return. */
  peers?: readonly PeerAddress[]
  /** Connected peers at most. Default 50. */
  maxConnections?: number
  /** Download only this piece (`bt download_piece`). */
  onlyPiece?: number
  /** Per-piece priorities (0 skips the piece); see `filePiecePriorities`. `filePriorities` is simpler. */
  piecePriorities?: ArrayLike<number>
  /**
   * Per-file priorities, in the torrent's file order (padding files are skipped whatever they say).
   * Default: every file `normal`. Change them while it runs with `setFilePriority`.
   */
  filePriorities?: readonly FilePriority[]
  /**
   * Keep going after completion (seeding): connections, trackers and uploads. Default false: `done`
   * stops downloading (the caller then usually stops the torrent).
   */
  seed?: boolean
  /** Peers unchoked at once by rate, besides the optimistic unchoke. Default 8. */
  uploadSlots?: number
  /** Aborting stops the torrent as `stop()` does. */
  signal?: AbortSignal
  /** Bytes per second at most, per direction (0: unlimited); shared client-wide limits come on top. */
  uploadLimit?: number
  downloadLimit?: number
  /** Limits shared with the client's other torrents. */
  sharedLimits?: { upload: RateLimiter; download: RateLimiter }
  /** A request unanswered this long is given to another peer. Default 30 s. */
  requestTimeoutMs?: number
  /** The client's cap on connections, shared by its torrents: this torrent's `maxConnections` come out of it. */
  connectionBudget?: ConnectionBudget
  /** The client's banned addresses, shared by its torrents. Default: a list of the torrent's own. */
  bans?: BanList
  /** Re-announce floor (tests shrink it). Default 30 s. */
  minAnnounceIntervalMs?: number
  /** Time between two PEX messages to one peer (tests shrink it). Default 60 s (BEP 11). */
  pexIntervalMs?: number
  /** Peer exchange (BEP 11) with peers that speak it; never for a private torrent. Default true. */
  pex?: boolean
}

export interface TorrentProgress {
  /** Bytes of verified pieces we have, of the wanted ones. */
  verifiedBytes: number
  /** Bytes wanted in all (the whole torrent, or the selected files/piece). */
  wantedBytes: number
  piecesVerified: number
  piecesWanted: number
  /** Payload bytes received from peers this session (including discarded ones). */
  downloadedBytes: number
  uploadedBytes: number
  /** Bytes per second over the last few seconds. */
  downloadRate: number
  uploadRate: number
  peers: number
  knownPeers: number
}

/** One file's part of the progress (padding files are left out). */
export interface FileProgress {
  /** The file's index in `meta.files`. */
  index: number
  path: string[]
  length: number
  priority: FilePriority
  /** Bytes of the file in verified pieces. */
  verifiedBytes: number
}

export interface TorrentEvents {
  progress: [TorrentProgress]
  /** A piece passed its hash check and is on disk. */
  piece: [index: number]
  done: []
  /** Something the torrent survives (a tracker down, a peer banned or dropped): see `Alert`. */
  alert: [Alert]
  /** A failure that stops the torrent (storage). Verified pieces stay on disk and in the resume data. */
  error: [Error]
}

/** Rechoke every 10 s; rotate the optimistic unchoke every 30 s (BEP 3 practice). */
const RECHOKE_TICKS = 10
const OPTIMISTIC_TICKS = 30
/** Blocks a peer may send unasked (beyond cancel races) before it is banned. */
const MAX_UNREQUESTED_BLOCKS = 16
/** A connection this young keeps its slot even when it has nothing to trade yet. */
const MIN_USELESS_MS = 30_000
/** Streaming: the window fetched first ahead of each reader, in seconds of the download rate… */
const READ_AHEAD_SECONDS = 5
/** …and at most this many pieces (two at least). */
const MAX_READ_AHEAD_PIECES = 32

/** Per-connection state; the session itself is the picker's key for the peer. */
interface PeerSession extends SwarmPeer {
  readonly kind: 'peer'
  /** The address a ban and the smart ban go by. */
  readonly ip: string
  readonly rate: RateMeter
  hasAll: boolean
  /** The peer's pieces as the picker knows them (every `have`/bitfield counted exactly once). */
  known: Bitfield
  lastBlockAt: number
  /** Owed us blocks and sent none for the snub time; cleared by the next block. */
  snubbed: boolean
  unrequestedBlocks: number
  readonly upload: UploadQueue
}

/** Where blocks come from: a peer connection or a web seed. */
type Sender = PeerSession | WebSeedSender

export class Torrent extends EventEmitter<TorrentEvents> {
  readonly meta: Metainfo
  readonly store: PieceStore
  /** Resolves when every wanted piece is verified; rejects on a storage failure, or with `TorrentStoppedError`. */
  readonly done: Promise<void>
  /** What our side of every connection says: the client's listener answers incoming peers with it. */
  readonly peerInit: Omit<PeerConnectionInit, 'infoHash'>

  private readonly init: TorrentInit
  private readonly picker: PiecePicker<Sender>
  private readonly swarm: Swarm<PeerSession>
  /** This torrent's cap on connections, a part of the client's. */
  private readonly budget: ConnectionBudget
  private readonly intake: BlockIntake<Sender>
  private readonly webSeeding: WebSeeding
  private readonly smartBan = new SmartBan<string>()
  private readonly filePriorities: FilePriority[]
  /** Bytes of each piece in wanted files (what progress and `left` count). */
  private wantedLength: Float64Array
  /** Verified pieces the store holds only in part: they cover a skipped file, so they are not served. */
  private readonly partial = new Set<number>()
  private readonly readers: StreamReaders
  private readonly flow: FlowControl
  private readonly downloaded = new RateMeter()
  private readonly uploaded = new RateMeter()
  private readonly stopController = unboundedAbortController()
  private readonly announcer: Announcer | undefined
  private readonly uploader: Uploader
  /** This torrent's own limits (the client's come on top). */
  private readonly ownLimits: { upload: RateLimiter; download: RateLimiter }
  /** BEP 11; never for a private torrent (BEP 27: its peers come from its trackers only). */
  private readonly pex: PeerExchange | undefined
  /** BEP 5, likewise never for a private torrent. */
  private readonly dhtPeers: DhtPeers | undefined
  /** Stops this owner's ticks (a no-op until it started). */
  private untick: () => void = () => {}
  private started = false
  private finished = false
  private paused = false
  private ticks = 0
  private optimistic: PeerSession | undefined
  /** Complete when started: we never send `completed` then. */
  private startedComplete = false
  private resolveDone!: () => void
  private rejectDone!: (error: Error) => void

  constructor(init: TorrentInit) {
    super()
    this.init = init
    this.meta = init.meta
    this.store = init.store
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve
      this.rejectDone = reject
    })
    // Callers that only listen to events must not see an unhandled rejection.
    this.done.catch(() => {})
    this.picker = new PiecePicker<Sender>({ layout: init.meta.layout, have: init.store.have })
    this.filePriorities = init.filePriorities
      ? init.meta.files.map((file, index) =>
          file.padding ? 'skip' : (init.filePriorities![index] ?? 'normal'),
        )
      : defaultFilePriorities(init.meta)
    for (const [index, priority] of this.filePriorities.entries())
      init.store.setFileWanted(index, priority !== 'skip')
    const wanted = wantedPieces(init.meta, this.filePriorities)
    this.wantedLength = wanted.wantedLength
    if (init.onlyPiece !== undefined) this.picker.only(init.onlyPiece)
    else if (init.piecePriorities) this.picker.setPiecePriorities(init.piecePriorities)
    else this.picker.setPiecePriorities(wanted.priorities)
    this.intake = new BlockIntake(this.picker, init.meta.layout)
    this.ownLimits = {
      upload: new RateLimiter(init.uploadLimit ?? 0),
      download: new RateLimiter(init.downloadLimit ?? 0),
    }
    this.readers = new StreamReaders({
      layout: init.meta.layout,
      hasPiece: (index) => this.store.have.has(index),
      readBlock: (index, begin, length, signal) => this.store.readBlock(index, begin, length, { signal }),
      readAheadBytes: () => {
        const pieceLength = init.meta.pieceLength
        const seconds = this.downloaded.rate(Date.now()) * READ_AHEAD_SECONDS
        return Math.min(MAX_READ_AHEAD_PIECES * pieceLength, Math.max(2 * pieceLength, seconds))
      },
      urgentChanged: (pieces, seeked) => this.urgentChanged(pieces, seeked),
    })
    const infoBytes = init.meta.infoBytes
    this.pex =
      init.meta.private || init.pex === false
        ? undefined
        : new PeerExchange({
            onPeers: (peers) => this.addPeers(peers, 'pex'),
            ...(init.pexIntervalMs !== undefined ? { intervalMs: init.pexIntervalMs } : {}),
          })
    this.peerInit = {
      peerId: init.peerId,
      pieceCount: init.meta.pieceCount,
      // With a DHT we say so (BEP 5 reserved bit) and trade DHT ports with peers that do too.
      reserved: reservedBytes({ extended: true, fast: true, dht: init.dht !== undefined }),
      // Peers that came by magnet link fetch the info dictionary from us (BEP 9).
      extensions: createExtensionRegistry([
        metadataServer(() => infoBytes),
        ...(this.pex ? [this.pex.extension] : []),
      ]),
      extendedHandshake: {
        version: CLIENT_NAME,
        listenPort: init.port,
        // Half of what the uploader tolerates before it calls a peer abusive.
        requestQueueLength: MAX_QUEUED_UPLOADS / 2,
        metadataSize: infoBytes.length,
      },
    }
    this.budget = createConnectionBudget(init.maxConnections ?? 50, init.connectionBudget)
    this.swarm = new Swarm<PeerSession>({
      connectionInit: { ...this.peerInit, infoHash: init.meta.infoHashBytes },
      budget: this.budget,
      bans: init.bans ?? new BanList(),
      signal: this.stopController.signal,
      ...dialOptions(init),
      wantsPeers: () => !this.paused && (!this.finished || this.init.seed === true),
      createSession: (peer) => this.opened(peer),
      sessionClosed: (session) => this.closed(session),
      alert: (alert) => this.emit('alert', alert),
      dropReason: (session, now) => this.dropReason(session, now),
      ranDry: () => {
        this.announcer?.requestPeers()
        this.dhtPeers?.ranDry()
      },
    })
    // Every limit is kept even while unlimited: `setRateLimits` (or the client's) may set it later.
    const limits = (own: RateLimiter, shared: RateLimiter | undefined) => [own, ...(shared ? [shared] : [])]
    this.flow = new FlowControl({
      store: init.store,
      limits: limits(this.ownLimits.download, init.sharedLimits?.download),
      connections: () => [...this.swarm.sessions()].map((session) => session.conn),
      signal: this.stopController.signal,
    })
    this.uploader = new Uploader(
      init.store,
      (index) => init.meta.layout.pieceLengthAt(index),
      init.meta.pieceCount,
      (bytes, now) => this.uploaded.add(bytes, now),
      limits(this.ownLimits.upload, init.sharedLimits?.upload),
    )
    this.swarm.peers.addAll(init.peers ?? [], 'manual')
    this.webSeeding = new WebSeeding(
      {
        meta: init.meta,
        pick: (sender, count, now) => this.picker.pick({ id: sender, has: sender.has }, count, now),
        giveBack: (sender, blocks) => {
          for (const block of blocks) this.picker.requestFailed(sender, block)
        },
        deliver: (sender, index, begin, block) => {
          this.downloaded.add(block.length, Date.now())
          this.takeBlock(sender, index, begin, block)
        },
        available: (pieces) => this.picker.peerHasBitfield(pieces),
        unavailable: (pieces) => this.picker.peerLost(pieces),
        wanted: () => !this.paused && !this.finished,
        alert: (alert) => this.emit('alert', alert),
        signal: this.stopController.signal,
      },
      init.meta.urlList,
    )
    this.dhtPeers =
      init.dht && !init.meta.private
        ? new DhtPeers({
            dht: init.dht,
            infoHash: init.meta.infoHashBytes,
            port: init.port,
            seed: () => this.finished,
            onPeers: (peers) => this.addPeers(peers, 'dht'),
            alert: (alert) => this.emit('alert', alert),
          })
        : undefined
    if (init.transport && init.meta.announceList.length > 0) {
      this.announcer = ownedAnnouncer(
        {
          tiers: init.meta.announceList,
          infoHash: init.meta.infoHashBytes,
          peerId: init.peerId,
          port: init.port,
          stats: () => this.announceStats(),
          transport: init.transport,
          minAnnounceIntervalMs: init.minAnnounceIntervalMs,
        },
        this,
      )
    }
  }

  /** Starts announcing and connecting. Pieces already in the store count as done. */
  start(): void {
    if (this.started) return
    this.started = true
    stopOnAbort(this.init.signal, this.stopController.signal, () => void this.stop())
    if (this.picker.done) {
      this.startedComplete = true
      queueMicrotask(() => this.complete())
      if (!this.init.seed) return
    }
    this.announcer?.start()
    this.dhtPeers?.start()
    this.webSeeding.start()
    this.untick = (this.init.ticker ?? createTicker()).add(() => this.tick())
    this.swarm.dial()
  }

  /** Takes over a connection a peer opened to us (the client's listener matched its info hash). */
  attach(conn: PeerConnection, transport: PeerTransport = 'tcp'): void {
    this.swarm.accept(conn, transport)
  }

  /** Adds peers to dial (from any source); returns how many were new. */
  addPeers(peers: readonly PeerAddress[], source: Exclude<PeerSource, 'incoming'> = 'manual'): number {
    if (!this.started) return this.swarm.peers.addAll(peers, source)
    return this.swarm.add(peers, source)
  }

  /** Changes this torrent's own limits (bytes per second, 0: unlimited) at once. */
  setRateLimits(limits: { upload?: number; download?: number }): void {
    if (limits.upload !== undefined) this.ownLimits.upload.setRate(limits.upload)
    if (limits.download !== undefined) this.ownLimits.download.setRate(limits.download)
  }

  /**
   * Changes this torrent's connection cap at once: lowered, the connections beyond it close (those
   * that gave us least first); raised, waiting peers are dialled.
   */
  setMaxConnections(max: number): void {
    this.budget.setMax(max)
    const surplus = this.swarm.size - max
    if (surplus < 0) {
      // Room again: the peers let go on good terms are worth dialling at once.
      this.swarm.peers.forgiveCleanDisconnects()
      this.swarm.dial()
    }
    if (surplus <= 0) return
    const sessions = [...this.swarm.sessions()].sort((a, b) => a.rate.total - b.rate.total)
    for (const session of sessions.slice(0, surplus)) {
      this.swarm.drop(session, 'peer-limit', `the torrent's peer limit is now ${max}`, false)
    }
  }

  /** Asks the trackers (and the DHT) for peers now, as far as their minimum intervals allow. */
  reannounce(): void {
    this.announcer?.reannounce()
    this.dhtPeers?.ranDry()
  }

  /** Stops transferring: every connection is closed and nobody is dialled until `resume()`. */
  pause(): void {
    if (this.paused || this.stopController.signal.aborted) return
    this.paused = true
    this.swarm.closeAll()
  }

  resume(): void {
    if (!this.paused || this.stopController.signal.aborted) return
    this.paused = false
    this.swarm.peers.forgiveCleanDisconnects()
    this.swarm.dial()
    this.webSeeding.poke()
  }

  get isPaused(): boolean {
    return this.paused
  }

  progress(): TorrentProgress {
    const now = Date.now()
    const layout = this.meta.layout
    let verifiedBytes = 0
    let wantedBytes = 0
    let piecesVerified = 0
    let piecesWanted = 0
    for (let index = 0; index < layout.pieceCount; index++) {
      if (this.picker.piecePriority(index) === 0) continue
      const length = this.wantedLength[index]!
      piecesWanted++
      wantedBytes += length
      if (this.picker.hasPiece(index)) {
        piecesVerified++
        verifiedBytes += length
      }
    }
    return {
      verifiedBytes,
      wantedBytes,
      piecesVerified,
      piecesWanted,
      downloadedBytes: this.downloaded.total,
      uploadedBytes: this.uploaded.total,
      downloadRate: this.downloaded.rate(now),
      uploadRate: this.uploaded.rate(now),
      peers: this.swarm.size,
      knownPeers: this.swarm.peers.size,
    }
  }

  /** Each file's priority and verified bytes, padding files left out. */
  fileProgress(): FileProgress[] {
    const layout = this.meta.layout
    const files: FileProgress[] = []
    for (const [index, file] of this.meta.files.entries()) {
      if (file.padding) continue
      let verifiedBytes = 0
      const range = layout.piecesForFile(index)
      for (let piece = range?.[0] ?? 0; range && piece <= range[1]; piece++) {
        if (!this.picker.hasPiece(piece)) continue
        const start = Math.max(file.offset, piece * layout.pieceLength)
        const end = Math.min(
          file.offset + file.length,
          piece * layout.pieceLength + layout.pieceLengthAt(piece),
        )
        verifiedBytes += end - start
      }
      const priority = this.filePriorities[index]!
      files.push({ index, path: file.path, length: file.length, priority, verifiedBytes })
    }
    return files
  }

  /**
   * Changes a file's priority while the torrent runs: a skipped file's pieces are no longer requested
   * (those shared with a wanted file still are); a file wanted again is completed without fetching what
   * is verified, but for its edge pieces, which were kept only in part.
   */
  setFilePriority(fileIndex: number, priority: FilePriority): void {
    const file = this.meta.files[fileIndex]
    if (!file)
      throw new RangeError(`client-core: no file ${fileIndex} (the torrent has ${this.meta.files.length})`)
    if (file.padding || this.filePriorities[fileIndex] === priority) return
    this.filePriorities[fileIndex] = priority
    this.store.setFileWanted(fileIndex, priority !== 'skip')
    const range = this.meta.layout.piecesForFile(fileIndex)
    if (priority !== 'skip' && range) {
      for (const index of [...this.partial]) {
        if (index < range[0] || index > range[1]) continue
        this.partial.delete(index)
        this.picker.pieceFailed(index)
      }
    }
    const wanted = wantedPieces(this.meta, this.filePriorities)
    this.wantedLength = wanted.wantedLength
    this.picker.setPiecePriorities(wanted.priorities)
    if (this.finished && !this.picker.done) {
      // Downloading again: seeds we left for having nothing to trade are worth dialling at once.
      this.finished = false
      this.swarm.peers.forgiveCleanDisconnects()
      this.swarm.dial()
      this.webSeeding.poke()
    }
    for (const session of this.swarm.sessions()) this.updateInterest(session)
    if (this.started && this.picker.done) this.complete()
  }

  /**
   * Bytes [start, end) of file `fileIndex` (of `meta.files`) while the torrent downloads: each chunk is
   * yielded once its piece is verified, and the pieces under the read position and a few seconds ahead
   * of it are fetched before any other. A skipped file becomes wanted. Ends when `signal` aborts;
   * throws `TorrentStoppedError` if the torrent stops first.
   */
  read(
    fileIndex: number,
    start: number,
    end: number,
    options: { signal?: AbortSignal } = {},
  ): AsyncIterable<Uint8Array> {
    const file = this.meta.files[fileIndex]
    if (!file || file.padding) throw new RangeError(`client-core: no content file ${fileIndex}`)
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end > file.length ||
      start > end
    ) {
      throw new RangeError(
        `client-core: [${start}, ${end}) is outside file ${fileIndex} (${file.length} bytes)`,
      )
    }
    if (this.filePriorities[fileIndex] === 'skip') this.setFilePriority(fileIndex, 'normal')
    const signal = options.signal ?? new AbortController().signal
    return this.readers.read(file.offset + start, file.offset + end, signal)
  }

  /**
   * Stops: closes every connection, tells the trackers (`stopped`), flushes the resume data and closes
   * the store. `done` rejects with `TorrentStoppedError` if the download was not finished.
   */
  async stop(): Promise<void> {
    if (this.stopController.signal.aborted) return
    this.stopController.abort(new TorrentStoppedError(this.meta.infoHash))
    this.untick()
    this.dhtPeers?.stop()
    if (!this.finished) this.rejectDone(new TorrentStoppedError(this.meta.infoHash))
    this.readers.stop(new TorrentStoppedError(this.meta.infoHash))
    await this.announcer?.stop()
    await this.store.close()
  }

  // Connections.

  private opened(peer: SwarmPeer): PeerSession {
    const conn = peer.conn
    const session: PeerSession = {
      ...peer,
      kind: 'peer',
      ip: canonicalIp(peer.address.host) ?? peer.address.host,
      rate: new RateMeter(),
      hasAll: false,
      known: new Bitfield(this.meta.pieceCount),
      lastBlockAt: peer.openedAt,
      snubbed: false,
      unrequestedBlocks: 0,
      upload: { conn, requests: [], sending: false, rate: new RateMeter() },
    }
    conn.on('message', (message) => this.onMessage(session, message))
    this.sendOurPieces(session)
    const dhtPort = this.init.dht?.address()?.port
    if (dhtPort !== undefined && conn.remoteExtensions.dht) conn.port(dhtPort)
    this.flow.opened(conn)
    return session
  }

  private sendOurPieces({ conn }: PeerSession): void {
    const have = this.store.have
    if (conn.negotiated.fast && have.empty) conn.haveNone()
    else if (conn.negotiated.fast && have.complete) conn.haveAll()
    else if (!have.empty) conn.bitfield(have)
  }

  private closed(session: PeerSession): void {
    this.picker.peerGone(session)
    this.picker.peerLost(session.hasAll ? 'all' : session.known)
    if (this.optimistic === session) this.optimistic = undefined
    // Blocks it held went back to the pool: give them to the others.
    for (const other of this.swarm.sessions()) this.fillRequests(other)
  }

  /** Whether a connection may give its slot to a waiting candidate (the swarm asks when it is full). */
  private dropReason(session: PeerSession, now: number): DropReason | undefined {
    if (session.snubbed) return 'snubbed'
    const conn = session.conn
    if (!conn.amInterested && !conn.peerInterested && now - session.openedAt >= MIN_USELESS_MS)
      return 'useless'
    return undefined
  }

  private onMessage(session: PeerSession, message: PeerMessage): void {
    switch (message.type) {
      case 'piece':
        this.onBlock(session, message.index, message.begin, message.block)
        return
      case 'have':
      case 'bitfield':
        this.learnPieces(session)
        this.updateInterest(session)
        this.dropIfBothSeeds(session)
        return
      case 'have-all':
        if (!session.hasAll) {
          this.picker.peerLost(session.known)
          session.hasAll = true
          this.picker.peerHasAll()
        }
        this.updateInterest(session)
        this.dropIfBothSeeds(session)
        return
      case 'have-none':
        this.updateInterest(session)
        return
      case 'unchoke':
        this.fillRequests(session)
        return
      case 'choke':
        // Without the fast extension a choke discards our pending requests (BEP 3); with it, the peer
        // rejects each one explicitly.
        if (!session.conn.negotiated.fast) this.intake.expire(session, Number.POSITIVE_INFINITY)
        return
      case 'reject':
        this.picker.requestFailed(session, message)
        this.fillRequests(session)
        return
      case 'request': {
        const verdict = this.uploader.request(session.upload, message)
        if (verdict === 'abusive') {
          this.swarm.ban(session, 'request-flood', 'flooded us with requests or asked for huge blocks')
        } else if (verdict === 'rejected' && session.conn.negotiated.fast) {
          session.conn.reject(message.index, message.begin, message.length)
        }
        return
      }
      case 'cancel':
        this.uploader.cancel(session.upload, message)
        return
      case 'port':
        // The peer's DHT node (BEP 5): pinged, and added to the routing table if it answers.
        if (message.port > 0 && message.port < 65536)
          this.init.dht?.addNode({ host: session.address.host, port: message.port })
        return
      case 'interested':
        // A free upload slot is given at once rather than at the next rechoke.
        if (session.conn.amChoking && this.unchokedCount() < (this.init.uploadSlots ?? 8))
          session.conn.unchoke()
        return
      default:
        return
    }
  }

  /** Two seeds have nothing to trade. */
  private dropIfBothSeeds(session: PeerSession): void {
    if (this.finished && (session.hasAll || session.known.complete)) session.conn.close()
  }

  /**
   * Tells the picker what the peer announced since last time. Peers may send a bitfield after `have`s
   * or a second one (aria2 does), so only pieces new to us are counted.
   */
  private learnPieces(session: PeerSession): void {
    const pieces = session.conn.peerPieces
    if (session.hasAll || !pieces) return
    if (session.known.empty) {
      session.known = pieces.clone()
      this.picker.peerHasBitfield(session.known)
      return
    }
    for (const index of pieces.indices()) if (session.known.set(index)) this.picker.peerHas(index)
  }

  private unchokedCount(): number {
    let count = 0
    for (const session of this.swarm.sessions()) if (!session.conn.amChoking) count++
    return count
  }

  /** Tit-for-tat while leeching, fastest takers while seeding, plus one rotating optimistic unchoke. */
  private rechoke(rotate: boolean): void {
    const now = Date.now()
    const sessions = [...this.swarm.sessions()]
    const decision = chooseUnchoked(
      sessions.map((session) => ({
        peer: session,
        interested: session.conn.peerInterested,
        downloadRate: session.rate.rate(now),
        uploadRate: session.upload.rate.rate(now),
      })),
      { slots: this.init.uploadSlots ?? 8, seeding: this.finished, optimistic: this.optimistic, rotate },
    )
    this.optimistic = decision.optimistic
    for (const session of sessions) {
      const unchoke = decision.unchoke.has(session)
      if (unchoke && session.conn.amChoking) session.conn.unchoke()
      else if (!unchoke && !session.conn.amChoking) {
        session.conn.choke()
        this.uploader.choked(session.upload)
      }
    }
  }

  private updateInterest(session: PeerSession): void {
    const conn = session.conn
    const interesting = !this.finished && this.picker.interesting(session.hasAll ? 'all' : session.known)
    if (interesting && !conn.amInterested) conn.interested()
    else if (!interesting && conn.amInterested) conn.notInterested()
    if (interesting) this.fillRequests(session)
  }

  /**
   * A streamed torrent keeps at most half a piece requested per peer: what a seeder already queued
   * when a reader seeks must arrive before the reader's new piece, so it must be small next to a piece
   * (a seek then costs at most 1.5 pieces' time, instead of seconds of queue).
   */
  private get streamingDepth(): number {
    return Math.max(4, Math.ceil(blockCount(this.meta.pieceLength) / 2))
  }

  /** Tops the peer's request queue up to what its measured rate can keep busy (one block when snubbed). */
  private fillRequests(session: PeerSession): void {
    const conn = session.conn
    if (conn.closed || conn.peerChoking || !conn.amInterested || this.finished) return
    const now = Date.now()
    const reqq = conn.extendedHandshake?.reqq
    const depth = session.snubbed
      ? 1
      : queueDepth(session.rate.rate(now), {
          ...(reqq ? { max: Math.min(500, reqq) } : {}),
          ...(this.readers.streamed ? { max: Math.min(reqq ?? 500, this.streamingDepth) } : {}),
        })
    const count = depth - this.picker.outstanding(session)
    // Refill in batches (a quarter of the queue at least): one write of many requests instead of a
    // syscall per block received.
    if (count <= 0 || count < depth >> 2) return
    const has = session.hasAll ? 'all' : session.known
    const blocks = this.picker.pick({ id: session, has }, count, now)
    if (blocks.length === 0) return
    conn.cork()
    for (const block of blocks) conn.request(block.index, block.begin, block.length)
    conn.uncork()
  }

  // Blocks and pieces.

  private onBlock(session: PeerSession, index: number, begin: number, block: Uint8Array): void {
    const now = Date.now()
    this.downloaded.add(block.length, now)
    this.flow.received(session.conn, block.length)
    const outcome = this.takeBlock(session, index, begin, block)
    if (outcome === 'unasked') {
      // Never asked for, or not the length asked: a liar fishing for a hash failure, or a broken peer.
      if (++session.unrequestedBlocks > MAX_UNREQUESTED_BLOCKS)
        this.swarm.ban(session, 'unrequested-blocks', 'sent blocks nobody asked for')
      return
    }
    if (outcome === 'accepted') {
      // Only useful blocks count towards the peer's rate (its request queue and its unchoke).
      session.rate.add(block.length, now)
      session.lastBlockAt = now
      session.snubbed = false
    }
    this.fillRequests(session)
  }

  /** A block from a peer or a web seed into its piece; the other requesters of it get a cancel. */
  private takeBlock(
    sender: Sender,
    index: number,
    begin: number,
    block: Uint8Array,
  ): BlockOutcome<Sender>['kind'] {
    const outcome = this.intake.receive(sender, index, begin, block)
    if (outcome.kind !== 'accepted') return outcome.kind
    for (const other of outcome.cancel)
      if (other.kind === 'peer') other.conn.cancel(index, begin, block.length)
    if (outcome.piece) void this.pieceComplete(outcome.piece)
    return outcome.kind
  }

  private async pieceComplete(piece: AssembledPiece<Sender>): Promise<void> {
    try {
      await this.storePiece(piece)
    } finally {
      // Written (or given up): the store and the smart ban are done with the bytes.
      this.intake.pieceBuffers.give(piece.data)
    }
  }

  private async storePiece(piece: AssembledPiece<Sender>): Promise<void> {
    const { index, data } = piece
    this.flow.writing()
    let whole: boolean
    try {
      whole = await this.store.writePiece(index, data, { signal: this.stopController.signal })
    } catch (error) {
      if (this.stopController.signal.aborted) return
      if (isPieceHashMismatchError(error)) {
        this.hashFailed(piece)
        return
      }
      this.fail(error instanceof Error ? error : new Error(String(error)))
      return
    }
    this.picker.pieceVerified(index)
    this.punish(this.smartBan.pieceVerified(index, ipsOf(piece.senders), data), piece)
    // A piece kept only in part (it covers a skipped file) cannot be served: nobody is told we have it.
    if (whole) {
      // Not to peers that have it already (seeds above all): a have is a syscall and a wake-up at the peer,
      // and with 16 KiB pieces sending them all cost the main thread more than SHA-1 did.
      for (const session of this.swarm.sessions()) {
        if (!session.hasAll && !session.known.has(index)) session.conn.have(index)
      }
      this.readers.pieceVerified(index)
    } else this.partial.add(index)
    this.emit('piece', index)
    if (this.picker.done) this.complete()
  }

  private hashFailed(piece: AssembledPiece<Sender>): void {
    const contributors = this.picker.pieceFailed(piece.index)
    this.emit('alert', {
      type: 'piece-failed',
      index: piece.index,
      peers: contributors.flatMap((sender) => (sender.kind === 'peer' ? [sender.address] : [])),
    })
    // A web seed is not banned: it loses the files of a piece it sent wrong, for the session.
    for (const sender of contributors)
      if (sender.kind === 'web-seed') this.webSeeding.pieceFailed(sender, piece.index)
    this.punish(this.smartBan.pieceFailed(piece.index, ipsOf(piece.senders), piece.data), piece)
    for (const session of this.swarm.sessions()) this.fillRequests(session)
  }

  /** Bans the addresses the smart ban convicted (client-wide: every connection from them closes). */
  private punish(verdicts: readonly SmartBanVerdict<string>[], piece: AssembledPiece<Sender>): void {
    for (const { key, reason, detail } of verdicts) {
      const webSeed = this.webSeeding.senders.find((sender) => sender.ip === key)
      if (webSeed) {
        this.webSeeding.pieceFailed(webSeed, piece.index)
        continue
      }
      const known =
        piece.senders.find((sender): sender is PeerSession => sender?.kind === 'peer' && sender.ip === key) ??
        [...this.swarm.sessions()].find((session) => session.ip === key)
      // A liar convicted after it left has no port left to name.
      this.swarm.banAddress(known?.address ?? { host: key, port: 0 }, reason, detail)
    }
  }

  /**
   * Readers moved: their pieces first. After a seek, every request for another piece is taken back (and
   * cancelled), so the reader's pieces are not queued behind seconds of others at the peers; those
   * pieces are asked for again later.
   */
  private urgentChanged(pieces: readonly number[], seeked: boolean): void {
    this.picker.setUrgent(pieces)
    const urgent = new Set(pieces)
    for (const session of this.swarm.sessions()) {
      if (seeked) {
        const released = this.picker.releaseRequests(session, (index) => urgent.has(index))
        this.intake.release(session, released)
        for (const block of released) session.conn.cancel(block.index, block.begin, block.length)
      }
      this.fillRequests(session)
    }
  }

  private complete(): void {
    if (this.finished) return
    this.finished = true
    this.intake.pieceBuffers.clear()
    if (!this.startedComplete) this.announcer?.completed()
    for (const session of this.swarm.sessions()) {
      if (session.conn.amInterested) session.conn.notInterested()
      this.dropIfBothSeeds(session)
    }
    void this.store.flush().catch(() => {})
    this.emit('progress', this.progress())
    this.emit('done')
    this.resolveDone()
  }

  private fail(error: Error): void {
    // An 'error' event without a listener would throw; `done` carries the error either way.
    if (this.listenerCount('error') > 0) this.emit('error', error)
    this.rejectDone(error)
    void this.stop().catch(() => {})
  }

  private tick(): void {
    const now = Date.now()
    const timeout = this.init.requestTimeoutMs ?? 30_000
    for (const session of this.swarm.sessions()) {
      // Requests that waited too long, and all of a snubbed peer's, go to other peers.
      const expired = this.intake.expire(session, now - timeout)
      if (
        !session.snubbed &&
        isSnubbed({
          now,
          lastBlockAt: session.lastBlockAt,
          oldestRequestAt: this.picker.oldestRequestAt(session),
        })
      ) {
        session.snubbed = true
        expired.push(...this.intake.expire(session, Number.POSITIVE_INFINITY))
      }
      for (const block of expired) session.conn.cancel(block.index, block.begin, block.length)
    }
    for (const session of this.swarm.sessions()) this.fillRequests(session)
    this.ticks++
    if (this.ticks % RECHOKE_TICKS === 0) this.rechoke(this.ticks % OPTIMISTIC_TICKS === 0)
    // An incoming peer's address has its source port: PEX finds its listen port itself.
    this.pex?.tick(
      [...this.swarm.sessions()].map(({ conn, address, incoming, transport }) => {
        const utp = transport === 'utp'
        return incoming ? { conn, utp } : { conn, address, utp }
      }),
    )
    this.swarm.tick(now)
    this.emit('progress', this.progress())
  }

  private announceStats(): { uploaded: number; downloaded: number; left: number } {
    const { wantedBytes, verifiedBytes } = this.progress()
    return {
      uploaded: this.uploaded.total,
      downloaded: this.downloaded.total,
      left: wantedBytes - verifiedBytes,
    }
  }
}

/** Who sent each block, by the address a ban goes by (a web seed's key is its URL). */
function ipsOf(senders: readonly (Sender | undefined)[]): (string | undefined)[] {
  return senders.map((session) => session?.ip)
}

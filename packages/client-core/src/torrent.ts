// One torrent being downloaded: peers from trackers and callers are dialled (a bounded number at a
// time), the picker decides which blocks each peer is asked for, complete pieces are verified and
// written by the piece store, and lying peers are found out and banned (DESIGN §2).

import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { Bitfield } from '@bt/bitfield'
import type { Metainfo } from '@bt/metainfo'
import { formatPeerAddress, type PeerAddress } from '@bt/peer-address'
import {
  createExtensionRegistry,
  type PeerConnection,
  type PeerConnectionInit,
  type PeerMessage,
} from '@bt/peer-wire'
import type { PieceStore } from '@bt/piece-store'
import { stopOnAbort, unboundedAbortController } from './abort.js'
import { Announcer, followAnnouncer } from './announcer.js'
import { BLOCK_SIZE, isSnubbed, queueDepth } from './block-requests.js'
import { chooseUnchoked } from './choker.js'
import { CLIENT_NAME } from './peer-id.js'
import { dialCandidate, PeerList } from './peer-list.js'
import { PeerExchange } from './pex.js'
import { type Block, PiecePicker } from './piece-picker.js'
import { RateMeter } from './rate.js'
import { RateLimiter } from './rate-limiter.js'
import type { TrackerTransport } from './tracker-transport.js'
import { MAX_QUEUED_UPLOADS, Uploader, type UploadQueue } from './uploader.js'
import { metadataServer } from './ut-metadata.js'

export interface TorrentInit {
  meta: Metainfo
  store: PieceStore
  peerId: Uint8Array
  /** The port announced to trackers (where we accept peers). */
  port: number
  /** Tracker transport shared by the client's torrents; without it, trackers are not contacted. */
  transport?: TrackerTransport
  /** Peers to dial besides what trackers return. */
  peers?: readonly PeerAddress[]
  /** Connected peers at most. Default 50. */
  maxConnections?: number
  /** Download only this piece (`bt download_piece`). */
  onlyPiece?: number
  /** Per-piece priorities (0 skips the piece); see `filePiecePriorities`. */
  piecePriorities?: ArrayLike<number>
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
  connectTimeoutMs?: number
  handshakeTimeoutMs?: number
  /** Shared by the torrents of a client: connections across all of them at most. */
  connectionBudget?: ConnectionBudget
  /** Re-announce floor (tests shrink it). Default 30 s. */
  minAnnounceIntervalMs?: number
  /** Peer list back-off base (tests shrink it). Default 10 s. */
  peerRetryDelayMs?: number
  /** Time between two PEX messages to one peer (tests shrink it). Default 60 s (BEP 11). */
  pexIntervalMs?: number
}

/** A client-wide cap on connections, shared by its torrents. */
export interface ConnectionBudget {
  readonly max: number
  used: number
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

export interface TorrentEvents {
  progress: [TorrentProgress]
  /** A piece passed its hash check and is on disk. */
  piece: [index: number]
  done: []
  /** A failure the torrent survives (a tracker down, a peer banned): for logs. */
  warning: [message: string, cause?: Error]
  /** A failure that stops the torrent (storage). Verified pieces stay on disk and in the resume data. */
  error: [Error]
}

const TICK_MS = 1000
/** Rechoke every 10 s; rotate the optimistic unchoke every 30 s (BEP 3 practice). */
const RECHOKE_TICKS = 10
const OPTIMISTIC_TICKS = 30
/** Hash failures shared with other peers before a peer is banned (a sole contributor is banned at once). */
const MAX_SHARED_HASH_FAILURES = 8
/** Blocks a peer may send unasked (beyond cancel races) before it is banned. */
const MAX_UNREQUESTED_BLOCKS = 16
/** Released requests remembered per peer; older ones are forgotten (a late answer is then dropped). */
const MAX_RELEASED = 4096

/** Per-connection state: the picker's key for the peer. */
interface PeerSession {
  readonly key: string
  readonly conn: PeerConnection
  readonly rate: RateMeter
  hasAll: boolean
  /** The peer's pieces as the picker knows them (every `have`/bitfield counted exactly once). */
  known: Bitfield
  lastBlockAt: number
  hashFailures: number
  /**
   * Blocks we stopped waiting for (cancelled, timed out, choked away) that may still arrive in flight:
   * accepted once. Anything else nobody asked this peer for is dropped and counted against it.
   */
  readonly released: Set<string>
  unrequestedBlocks: number
  readonly upload: UploadQueue
  /** Not read from until the download limit's debt is paid. */
  ratePaused: boolean
}

/** A piece whose blocks are arriving: its buffer and who sent each block (for smart banning). */
interface PieceBuffer {
  readonly data: Uint8Array
  readonly senders: (PeerSession | undefined)[]
}

export class Torrent extends EventEmitter<TorrentEvents> {
  readonly meta: Metainfo
  readonly store: PieceStore
  /** Resolves when every wanted piece is verified; rejects on a storage failure or `stop()` first. */
  readonly done: Promise<void>
  /** What our side of every connection says: the client's listener answers incoming peers with it. */
  readonly peerInit: Omit<PeerConnectionInit, 'infoHash'>

  private readonly init: TorrentInit
  private readonly picker: PiecePicker<PeerSession>
  private readonly peerList: PeerList
  private readonly sessions = new Map<string, PeerSession>()
  private readonly buffers = new Map<number, PieceBuffer>()
  /** Per failed piece and block: what each sender sent, to compare with the good data later. */
  private readonly suspects = new Map<number, Map<PeerSession, Map<number, string>>>()
  private readonly downloaded = new RateMeter()
  private readonly uploaded = new RateMeter()
  private readonly stopController = unboundedAbortController()
  private readonly announcer: Announcer | undefined
  private readonly connectionBudget: ConnectionBudget | undefined
  private connecting = 0
  private timer: NodeJS.Timeout | undefined
  private started = false
  private finished = false
  private pausedForDisk = false
  private readonly downloadLimits: RateLimiter[]
  private paused = false
  private readonly uploader: Uploader
  /** BEP 11; never for a private torrent (BEP 27: its peers come from its trackers only). */
  private readonly pex: PeerExchange | undefined
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
    this.connectionBudget = init.connectionBudget
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve
      this.rejectDone = reject
    })
    // Callers that only listen to events must not see an unhandled rejection.
    this.done.catch(() => {})
    this.picker = new PiecePicker<PeerSession>({ layout: init.meta.layout, have: init.store.have })
    if (init.onlyPiece !== undefined) this.picker.only(init.onlyPiece)
    else if (init.piecePriorities) this.picker.setPiecePriorities(init.piecePriorities)
    this.peerList = new PeerList({ retryDelayMs: init.peerRetryDelayMs ?? 10_000 })
    const infoBytes = init.meta.infoBytes
    this.pex = init.meta.private
      ? undefined
      : new PeerExchange({
          onPeers: (peers) => this.addPeers(peers, 'pex'),
          ...(init.pexIntervalMs !== undefined ? { intervalMs: init.pexIntervalMs } : {}),
        })
    this.peerInit = {
      peerId: init.peerId,
      pieceCount: init.meta.pieceCount,
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
    const limits = (own: number | undefined, shared: RateLimiter | undefined) =>
      [new RateLimiter(own ?? 0), ...(shared ? [shared] : [])].filter((limit) => !limit.unlimited)
    this.downloadLimits = limits(init.downloadLimit, init.sharedLimits?.download)
    this.uploader = new Uploader(
      init.store,
      (index) => init.meta.layout.pieceLengthAt(index),
      init.meta.pieceCount,
      (bytes, now) => this.uploaded.add(bytes, now),
      limits(init.uploadLimit, init.sharedLimits?.upload),
    )
    for (const peer of init.peers ?? []) this.peerList.add(peer, 'manual')
    if (init.transport && init.meta.announceList.length > 0) {
      this.announcer = new Announcer({
        tiers: init.meta.announceList,
        infoHash: init.meta.infoHashBytes,
        peerId: init.peerId,
        port: init.port,
        stats: () => this.announceStats(),
        transport: init.transport,
        ...(init.minAnnounceIntervalMs !== undefined
          ? { minAnnounceIntervalMs: init.minAnnounceIntervalMs }
          : {}),
      })
      followAnnouncer(
        this.announcer,
        (peers) => this.addPeers(peers, 'tracker'),
        (message, cause) => this.emit('warning', message, cause),
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
    this.timer = setInterval(() => this.tick(), TICK_MS)
    this.dial()
  }

  /** Takes over a connection a peer opened to us (the client's listener matched its info hash). */
  attach(conn: PeerConnection): void {
    const key = formatPeerAddress(conn.remoteAddress)
    if (this.connectionBudget && this.connectionBudget.used >= this.connectionBudget.max) {
      conn.close()
      return
    }
    if (this.connectionBudget) this.connectionBudget.used++
    this.opened(key, conn)
  }

  /** Adds peers to dial (from any source); returns how many were new. */
  addPeers(peers: readonly PeerAddress[], source: 'tracker' | 'pex' | 'manual' = 'manual'): number {
    const added = this.peerList.addAll(peers, source)
    if (added > 0 && this.started && !this.stopController.signal.aborted) this.dial()
    return added
  }

  /** Stops transferring: every connection is closed and nobody is dialled until `resume()`. */
  pause(): void {
    if (this.paused || this.stopController.signal.aborted) return
    this.paused = true
    for (const session of this.sessions.values()) session.conn.close()
  }

  resume(): void {
    if (!this.paused || this.stopController.signal.aborted) return
    this.paused = false
    this.peerList.forgiveCleanDisconnects()
    this.dial()
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
      const length = layout.pieceLengthAt(index)
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
      peers: this.sessions.size,
      knownPeers: this.peerList.size,
    }
  }

  /**
   * Stops: closes every connection, tells the trackers (`stopped`), flushes the resume data and closes
   * the store. `done` rejects if the download was not finished.
   */
  async stop(): Promise<void> {
    if (this.stopController.signal.aborted) return
    this.stopController.abort(new Error('torrent stopped'))
    clearInterval(this.timer)
    for (const session of this.sessions.values()) session.conn.close()
    if (!this.finished) this.rejectDone(new Error('client-core: torrent stopped before it finished'))
    await this.announcer?.stop()
    await this.store.close()
  }

  // Connections.

  private dial(): void {
    if ((this.finished && !this.init.seed) || this.paused || this.stopController.signal.aborted) return
    const max = this.init.maxConnections ?? 50
    const budget = this.init.connectionBudget
    const slots = Math.min(
      max - this.sessions.size - this.connecting,
      budget ? budget.max - budget.used : Number.POSITIVE_INFINITY,
    )
    if (slots <= 0) return
    for (const candidate of this.peerList.takeForDialling(slots, Date.now())) {
      this.connecting++
      if (budget) budget.used++
      void dialCandidate(
        this.peerList,
        candidate,
        { ...this.peerInit, infoHash: this.meta.infoHashBytes },
        {
          signal: this.stopController.signal,
          connectTimeoutMs: this.init.connectTimeoutMs ?? 10_000,
          handshakeTimeoutMs: this.init.handshakeTimeoutMs ?? 10_000,
        },
      ).then((conn) => {
        this.connecting--
        if (conn) this.opened(candidate.key, conn)
        else if (budget) budget.used--
      })
    }
  }

  private opened(key: string, conn: PeerConnection): void {
    const done = this.finished && !this.init.seed
    if (this.stopController.signal.aborted || done || this.paused || this.peerList.isBanned(key)) {
      if (this.init.connectionBudget) this.init.connectionBudget.used--
      conn.close()
      this.peerList.disconnected(key, false, Date.now())
      return
    }
    this.peerList.connected(key)
    const session: PeerSession = {
      key,
      conn,
      rate: new RateMeter(),
      hasAll: false,
      known: new Bitfield(this.meta.pieceCount),
      lastBlockAt: Date.now(),
      hashFailures: 0,
      released: new Set(),
      unrequestedBlocks: 0,
      upload: { conn, requests: [], sending: false, rate: new RateMeter() },
      ratePaused: false,
    }
    this.sessions.set(key, session)
    conn.on('message', (message) => this.onMessage(session, message))
    conn.once('close', (reason) => this.closed(session, reason))
    this.sendOurPieces(conn)
    if (this.pausedForDisk) conn.pause()
  }

  private sendOurPieces(conn: PeerConnection): void {
    const have = this.store.have
    if (conn.negotiated.fast && have.empty) conn.haveNone()
    else if (conn.negotiated.fast && have.complete) conn.haveAll()
    else if (!have.empty) conn.bitfield(have)
  }

  private closed(session: PeerSession, reason: Error | undefined): void {
    this.sessions.delete(session.key)
    if (this.init.connectionBudget) this.init.connectionBudget.used--
    this.picker.peerGone(session)
    this.picker.peerLost(session.hasAll ? 'all' : session.known)
    this.peerList.disconnected(session.key, reason !== undefined, Date.now())
    if (reason && !this.stopController.signal.aborted) {
      this.emit('warning', `peer ${session.key} disconnected: ${reason.message}`, reason)
    }
    // Blocks it held went back to the pool: give them to the others, and find a replacement peer.
    for (const other of this.sessions.values()) this.fillRequests(other)
    this.dial()
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
        if (!session.conn.negotiated.fast) {
          this.release(session, this.picker.expireRequests(session, Number.POSITIVE_INFINITY))
        }
        return
      case 'reject':
        this.picker.requestFailed(session, message)
        this.fillRequests(session)
        return
      case 'request': {
        const verdict = this.uploader.request(session.upload, message)
        if (verdict === 'abusive') this.ban(session, 'flooded us with requests or asked for huge blocks')
        else if (verdict === 'rejected' && session.conn.negotiated.fast) {
          session.conn.reject(message.index, message.begin, message.length)
        }
        return
      }
      case 'cancel':
        this.uploader.cancel(session.upload, message)
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
    for (const session of this.sessions.values()) if (!session.conn.amChoking) count++
    return count
  }

  /** Tit-for-tat while leeching, fastest takers while seeding, plus one rotating optimistic unchoke. */
  private rechoke(rotate: boolean): void {
    const now = Date.now()
    const sessions = [...this.sessions.values()]
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

  /** Tops the peer's request queue up to what its measured rate can keep busy. */
  private fillRequests(session: PeerSession): void {
    const conn = session.conn
    if (conn.closed || conn.peerChoking || !conn.amInterested || this.finished) return
    const now = Date.now()
    const snubbed = isSnubbed({
      now,
      lastBlockAt: session.lastBlockAt,
      oldestRequestAt: this.picker.oldestRequestAt(session),
    })
    const reqq = conn.extendedHandshake?.reqq
    const depth = snubbed ? 1 : queueDepth(session.rate.rate(now), reqq ? { max: Math.min(500, reqq) } : {})
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
    this.throttleForRate(session, block.length)
    const asked = { index, begin, length: block.length }
    const rightLength =
      index < this.meta.pieceCount &&
      block.length === Math.min(BLOCK_SIZE, this.meta.layout.pieceLengthAt(index) - begin)
    const wasAsked =
      this.picker.isRequestedFrom(session, asked) || session.released.delete(`${index}:${begin}`)
    if (!rightLength || !wasAsked) {
      // Never asked for, or not the length asked: a liar fishing for a hash failure, or a broken peer.
      if (++session.unrequestedBlocks > MAX_UNREQUESTED_BLOCKS)
        this.ban(session, 'sent blocks nobody asked for')
      return
    }
    const receipt = this.picker.blockReceived(session, asked)
    if (receipt.accepted) {
      // Only useful blocks count towards the peer's rate (its request queue and its unchoke).
      session.rate.add(block.length, now)
      session.lastBlockAt = now
      let buffer = this.buffers.get(index)
      if (!buffer) {
        const length = this.meta.layout.pieceLengthAt(index)
        buffer = { data: new Uint8Array(length), senders: new Array(Math.ceil(length / BLOCK_SIZE)) }
        this.buffers.set(index, buffer)
      }
      buffer.data.set(block, begin)
      buffer.senders[begin / BLOCK_SIZE] = session
      for (const other of receipt.cancel) {
        other.conn.cancel(index, begin, block.length)
        this.release(other, [asked])
      }
      if (receipt.pieceComplete) void this.pieceComplete(index)
    }
    this.fillRequests(session)
  }

  private async pieceComplete(index: number): Promise<void> {
    const buffer = this.buffers.get(index)
    if (!buffer) return
    this.buffers.delete(index)
    this.throttleForDisk()
    try {
      await this.store.writePiece(index, buffer.data, { signal: this.stopController.signal })
    } catch (error) {
      if (this.stopController.signal.aborted) return
      if (error instanceof Error && error.name === 'PieceHashMismatchError') {
        this.hashFailed(index, buffer)
        return
      }
      this.fail(error instanceof Error ? error : new Error(String(error)))
      return
    }
    this.picker.pieceVerified(index)
    this.convictLiars(index, buffer.data)
    for (const session of this.sessions.values()) session.conn.have(index)
    this.emit('piece', index)
    if (this.picker.done) this.complete()
  }

  /** Charges the senders of a piece that failed its hash; remembers what each sent (smart ban). */
  private hashFailed(index: number, buffer: PieceBuffer): void {
    const contributors = this.picker.pieceFailed(index)
    const bySender = this.suspects.get(index) ?? new Map<PeerSession, Map<number, string>>()
    buffer.senders.forEach((sender, blockIndex) => {
      if (!sender) return
      const begin = blockIndex * BLOCK_SIZE
      const sent = bySender.get(sender) ?? new Map<number, string>()
      sent.set(blockIndex, sha1(buffer.data.subarray(begin, begin + BLOCK_SIZE)))
      bySender.set(sender, sent)
    })
    this.suspects.set(index, bySender)
    this.emit(
      'warning',
      `piece ${index} failed its hash check (from ${contributors.map((s) => s.key).join(', ')})`,
    )
    // A sole sender is certainly guilty. Shared blame waits for the smart ban (convictLiars), which
    // compares blocks once the piece comes in right; a banned co-sender is the likely culprit already.
    if (contributors.length === 1) {
      this.ban(contributors[0]!, 'sent data that failed hash checks')
    } else if (!contributors.some((session) => this.peerList.isBanned(session.key))) {
      for (const session of contributors) {
        if (++session.hashFailures >= MAX_SHARED_HASH_FAILURES)
          this.ban(session, 'took part in repeated hash failures')
      }
    }
    for (const session of this.sessions.values()) this.fillRequests(session)
  }

  /** The piece is good now: whoever sent a block that differs from it lied. */
  private convictLiars(index: number, good: Uint8Array): void {
    const bySender = this.suspects.get(index)
    if (!bySender) return
    this.suspects.delete(index)
    for (const [sender, blocks] of bySender) {
      for (const [blockIndex, hash] of blocks) {
        const begin = blockIndex * BLOCK_SIZE
        if (sha1(good.subarray(begin, begin + BLOCK_SIZE)) !== hash) {
          this.ban(sender, `sent a corrupt block of piece ${index}`)
          break
        }
      }
    }
  }

  /** Remembers requests we gave up on, so their answers still in flight are not held against the peer. */
  private release(session: PeerSession, blocks: readonly Block[]): void {
    if (session.released.size + blocks.length > MAX_RELEASED) session.released.clear()
    for (const block of blocks) session.released.add(`${block.index}:${block.begin}`)
  }

  private ban(session: PeerSession, why: string): void {
    if (this.peerList.isBanned(session.key)) return
    this.peerList.ban(session.key)
    this.emit('warning', `banned peer ${session.key}: ${why}`)
    session.conn.close(new Error(`banned: ${why}`))
  }

  /**
   * Over the download limit: the peer whose block took us there stops being read until the debt is
   * paid. Only peers that send data are paused, so the others' requests and extension messages (and
   * our uploads to them) go on; with several senders, each waits for the debt all of them ran up.
   */
  private throttleForRate(session: PeerSession, bytes: number): void {
    if (this.downloadLimits.length === 0) return
    const wait = Math.max(0, ...this.downloadLimits.map((limit) => limit.take(bytes)))
    if (wait === 0 || session.ratePaused) return
    session.ratePaused = true
    session.conn.pause()
    setTimeout(() => {
      session.ratePaused = false
      if (!this.pausedForDisk) session.conn.resume()
    }, wait).unref()
  }

  /** Reads from every peer again but those still paused for the download limit. */
  private resumeReading(): void {
    for (const session of this.sessions.values()) {
      // A resumed peer's buffered blocks may fill the write queue again: the rest wait for it then.
      if (this.pausedForDisk) return
      if (!session.ratePaused) session.conn.resume()
    }
  }

  /** Stops reading from peers while the store's write queue is full, so memory stays bounded. */
  private throttleForDisk(): void {
    if (this.pausedForDisk || this.store.pendingBytes < this.store.highWaterMark) return
    this.pausedForDisk = true
    for (const session of this.sessions.values()) session.conn.pause()
    this.store.drained({ signal: this.stopController.signal }).then(
      () => {
        this.pausedForDisk = false
        this.resumeReading()
      },
      () => {},
    )
  }

  private complete(): void {
    if (this.finished) return
    this.finished = true
    if (!this.startedComplete) this.announcer?.completed()
    for (const session of this.sessions.values()) {
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
    for (const session of this.sessions.values()) {
      const expired: Block[] = this.picker.expireRequests(session, now - timeout)
      for (const block of expired) session.conn.cancel(block.index, block.begin, block.length)
      this.release(session, expired)
    }
    for (const session of this.sessions.values()) this.fillRequests(session)
    this.ticks++
    if (this.ticks % RECHOKE_TICKS === 0) this.rechoke(this.ticks % OPTIMISTIC_TICKS === 0)
    this.pex?.tick([...this.sessions.values()])
    this.dial()
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

function sha1(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex')
}

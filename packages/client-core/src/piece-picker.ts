// Which 16 KiB blocks to request from which peer (DESIGN §2.5). Order: partial pieces first (finish what
// is started, so memory stays bounded by pieces in flight), then random pieces until a few are complete
// (something to trade, fast), then rarest first; a higher piece priority beats all three. When every
// wanted block is requested, end-game mode hands out duplicates so the last blocks don't wait on one
// slow peer, and `blockReceived` names the peers to cancel.
//
// Pure and synchronous: no timers and no I/O; times come in as `now` and randomness from `init.random`,
// so the engine drives it and tests replay it exactly. Fresh pieces sit in buckets keyed by (priority,
// availability), so rarest-first looks at the rarest pieces first instead of scanning or sorting all of
// them, and a `have` moves one piece between buckets in O(1). Peers that have everything (BEP 6 have-all,
// seeds) are one shared counter, never a per-piece update. Pieces a reader waits for (streaming,
// `setUrgent`) come before all of that, in the reader's order, and the very next one is asked of a
// second peer when its blocks are slow to come.
import { Bitfield } from '@bt/bitfield'
import type { FileLayout } from '@bt/metainfo'
import { BLOCK_SIZE, blockCount } from './block-requests.js'

/** A block of a piece: the triple of a BEP 3 `request`, `piece` and `cancel`. */
export interface Block {
  index: number
  /** Byte offset in the piece, a multiple of 16 KiB. */
  begin: number
  length: number
}

/**
 * The peer a `pick` is for: its key and the pieces it has (`'all'` for a seed or BEP 6 have-all). A
 * bitfield must be the one reported through `peerHasBitfield`/`peerHas`: rarest-first relies on it being
 * counted.
 */
export interface PickPeer<P> {
  id: P
  has: Bitfield | 'all'
}

/** What `blockReceived` made of a block. */
export interface BlockReceipt<P> {
  /** `false`: drop the data (already received, piece verified or not wanted, or not a valid block). */
  accepted: boolean
  /** Other peers this block was requested from: send them `cancel`. */
  cancel: P[]
  /** Every block of the piece is in: hash it, then call `pieceVerified` or `pieceFailed`. */
  pieceComplete: boolean
}

/** Highest piece priority; 0 means skip, 1 is normal. */
export const MAX_PRIORITY = 7

export interface PiecePickerInit {
  layout: Pick<FileLayout, 'pieceLength' | 'pieceCount' | 'totalLength'>
  /** Pieces already verified (resume data); copied. */
  have?: Bitfield
  /** Pick at random until this many pieces are complete, then rarest first. Default 4. */
  randomFirstPieces?: number
  /** In end-game, at most this many peers are asked for the same block. Default 3. */
  endGameRequesters?: number
  /** A block of the first urgent piece requested this long ago is asked of another peer too. Default 1 s. */
  urgentDuplicateMs?: number
  /** A number in [0, 1); injected so tests are deterministic. Default `Math.random`. */
  random?: () => number
}

const FREE = 0
const REQUESTED = 1
const RECEIVED = 2

/** A piece with blocks requested or received: the only pieces that cost per-block memory. */
interface ActivePiece<P> {
  readonly index: number
  /** FREE, REQUESTED or RECEIVED per block. */
  readonly state: Uint8Array
  /** Peers each REQUESTED block is asked from (several only in end-game). */
  readonly requesters: (P[] | undefined)[]
  /** Every peer that delivered an accepted block: charged if the piece fails its hash. */
  readonly contributors: Set<P>
  free: number
  received: number
  /** No FREE block below this index. */
  firstFree: number
}

/**
 * The piece picker of one torrent. `P` is whatever identifies a peer to the engine (a key or the
 * connection object itself); it is only compared and handed back.
 *
 * The engine reports availability (`peerHas*`, `peerLost`), asks `pick` for blocks to request, and
 * reports what happened to each request (`blockReceived`, `requestFailed`, `expireRequests`,
 * `peerGone`) and to each complete piece (`pieceVerified`, `pieceFailed`).
 */
export class PiecePicker<P = string> {
  readonly pieceCount: number
  private readonly pieceLength: number
  private readonly lastPieceLength: number
  /** Blocks in a full piece; block keys are `index × blocksPerPiece + block`. */
  private readonly blocksPerPiece: number
  private readonly randomFirstPieces: number
  private readonly endGameRequesters: number
  private readonly urgentDuplicateMs: number
  /** Pieces readers wait for, most urgent first. */
  private urgent: readonly number[] = []
  private readonly random: () => number
  private readonly have: Bitfield

  private readonly priority: Uint8Array
  /** Peers with a bitfield that have each piece; `seeds` counts have-all peers on top. */
  private readonly availabilityCount: Int32Array
  private seeds = 0

  /** Fresh pieces (wanted, not verified, not active): `fresh[priority][availability]` lists pieces. */
  private readonly fresh: number[][][] = []
  private readonly freshTotal = new Int32Array(MAX_PRIORITY + 1)
  /** Position of a fresh piece in its bucket, −1 when not fresh. */
  private readonly freshPosition: Int32Array

  private readonly active = new Map<number, ActivePiece<P>>()
  /** Active pieces with at least one FREE block. */
  private readonly open = new Set<ActivePiece<P>>()
  /** Per peer: block key → time requested, oldest first. */
  private readonly peers = new Map<P, Map<number, number>>()

  /** FREE blocks in wanted, unverified pieces: 0 means end-game. */
  private freeWanted = 0
  /** Wanted pieces not yet verified. */
  private left = 0

  constructor(init: PiecePickerInit) {
    const { pieceLength, pieceCount, totalLength } = init.layout
    if (
      !Number.isSafeInteger(pieceLength) ||
      pieceLength <= 0 ||
      !Number.isSafeInteger(totalLength) ||
      totalLength < 0 ||
      pieceCount !== Math.ceil(totalLength / pieceLength)
    ) {
      throw new RangeError(
        `piece-picker: inconsistent layout (piece length ${pieceLength}, ${pieceCount} pieces, ${totalLength} bytes)`,
      )
    }
    if (init.have && init.have.length !== pieceCount) {
      throw new RangeError(`piece-picker: have bitfield has ${init.have.length} bits, expected ${pieceCount}`)
    }
    this.pieceCount = pieceCount
    this.pieceLength = pieceLength
    this.lastPieceLength = totalLength - (pieceCount - 1) * pieceLength
    this.blocksPerPiece = blockCount(pieceLength)
    this.randomFirstPieces = init.randomFirstPieces ?? 4
    this.endGameRequesters = Math.max(1, init.endGameRequesters ?? 3)
    this.urgentDuplicateMs = init.urgentDuplicateMs ?? 1000
    this.random = init.random ?? Math.random
    this.have = init.have ? init.have.clone() : new Bitfield(pieceCount)
    this.priority = new Uint8Array(pieceCount).fill(1)
    this.availabilityCount = new Int32Array(pieceCount)
    this.freshPosition = new Int32Array(pieceCount).fill(-1)
    for (let level = 0; level <= MAX_PRIORITY; level++) this.fresh.push([[]])
    for (let index = 0; index < pieceCount; index++) {
      if (this.have.has(index)) continue
      this.addFresh(index)
      this.freeWanted += this.blocksIn(index)
      this.left++
    }
  }

  /** Every wanted piece is verified. */
  get done(): boolean {
    return this.left === 0
  }

  /** Wanted pieces not yet verified. */
  get piecesLeft(): number {
    return this.left
  }

  /** Every wanted block is requested or received: `pick` now hands out duplicates. */
  get endGame(): boolean {
    return this.left > 0 && this.freeWanted === 0
  }

  /** Whether piece `index` is verified. */
  hasPiece(index: number): boolean {
    return this.have.has(index)
  }

  /** A copy of the verified pieces, e.g. for a `bitfield` message. */
  bitfield(): Bitfield {
    return this.have.clone()
  }

  // Availability. The engine calls these once per change of a peer's bitfield (check `Bitfield.set`'s
  // return value before `peerHas`, so a repeated `have` is not counted twice).

  /** A peer announced piece `index` (`have`). */
  peerHas(index: number): void {
    this.checkIndex(index)
    this.changeAvailability(index, 1)
  }

  /** A peer sent its `bitfield`. */
  peerHasBitfield(bitfield: Bitfield): void {
    this.checkBitfield(bitfield)
    for (const index of bitfield.indices()) this.changeAvailability(index, 1)
  }

  /** A peer has every piece (BEP 6 `have all`, or a seed). O(1). */
  peerHasAll(): void {
    this.seeds++
  }

  /** A peer left: pass what it had (its bitfield, or `'all'` if it was counted by `peerHasAll`). */
  peerLost(had: Bitfield | 'all'): void {
    if (had === 'all') {
      this.seeds = Math.max(0, this.seeds - 1)
      return
    }
    this.checkBitfield(had)
    for (const index of had.indices()) this.changeAvailability(index, -1)
  }

  /** How many connected peers have piece `index`. */
  availability(index: number): number {
    this.checkIndex(index)
    return this.availabilityCount[index]! + this.seeds
  }

  // What to download.

  /** Piece priority: 0 = skip, 1 = normal, up to {@link MAX_PRIORITY} = soonest. */
  piecePriority(index: number): number {
    this.checkIndex(index)
    return this.priority[index]!
  }

  /**
   * Sets piece `index`'s priority. Skipping a piece stops new requests for it; blocks already requested
   * are still accepted when they arrive.
   */
  setPiecePriority(index: number, priority: number): void {
    this.checkIndex(index)
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      throw new RangeError(`piece-picker: priority ${priority} is outside 0..${MAX_PRIORITY}`)
    }
    const old = this.priority[index]!
    if (old === priority) return
    const before = this.freeContribution(index)
    if (this.freshPosition[index]! >= 0) this.removeFresh(index)
    this.priority[index] = priority
    if (!this.have.has(index)) {
      if (priority > 0 && !this.active.has(index)) this.addFresh(index)
      this.left += (priority > 0 ? 1 : 0) - (old > 0 ? 1 : 0)
    }
    this.freeWanted += this.freeContribution(index) - before
  }

  /** Sets every piece's priority, e.g. from {@link filePiecePriorities}. */
  setPiecePriorities(priorities: ArrayLike<number>): void {
    if (priorities.length !== this.pieceCount) {
      throw new RangeError(`piece-picker: ${priorities.length} priorities for ${this.pieceCount} pieces`)
    }
    for (let index = 0; index < this.pieceCount; index++) this.setPiecePriority(index, priorities[index]!)
  }

  /** Wants piece `index` alone (download_piece): every other piece's priority becomes 0. */
  only(index: number): void {
    this.checkIndex(index)
    for (let piece = 0; piece < this.pieceCount; piece++) {
      if (piece !== index) this.setPiecePriority(piece, 0)
    }
    if (this.priority[index] === 0) this.setPiecePriority(index, 1)
  }

  /**
   * Pieces readers wait for, in the order they will read them (a stream's position and read-ahead):
   * picked before every other piece, in this order, whatever their rarity or priority (skipped pieces
   * excepted). Replaces the previous list; `[]` ends it.
   */
  setUrgent(pieces: readonly number[]): void {
    for (const index of pieces) this.checkIndex(index)
    this.urgent = [...pieces]
  }

  /** Whether a peer with these pieces has something we want (decides `interested`). */
  interesting(has: Bitfield | 'all'): boolean {
    if (this.left === 0) return false
    if (has === 'all') return true
    for (const index of has.indices()) {
      if (this.priority[index]! > 0 && !this.have.has(index)) return true
    }
    return false
  }

  // Requests.

  /**
   * Up to `count` blocks to request from `peer` now, each recorded as requested from it at `now`. Never a
   * block the peer lacks, a skipped or verified piece, or a block already requested from this peer;
   * a block requested from another peer only in end-game. `count` is usually
   * `queueDepth(rate) − outstanding(peer)`. `now` must not go backwards between calls: requests are kept
   * in the order they were made, oldest first.
   */
  pick(peer: PickPeer<P>, count: number, now: number): Block[] {
    const picked: Block[] = []
    if (count <= 0 || this.left === 0) return picked
    const requests = this.requestsOf(peer.id)
    this.requestSlowUrgent(peer, requests, count, now, picked)
    while (picked.length < count && this.freeWanted > 0) {
      const piece = this.nextPiece(peer.has)
      if (!piece) break
      this.requestFree(piece, peer.id, requests, count, now, picked)
    }
    if (picked.length < count && this.freeWanted === 0) {
      this.requestDuplicates(peer, requests, count, now, picked)
    }
    return picked
  }

  /**
   * A block arrived from `peer`. Accepted when it is a block of an unverified piece that has not arrived
   * yet, requested or not (a request that timed out may still be answered); the peers it was also
   * requested from are returned for `cancel`.
   */
  blockReceived(peer: P, block: Block): BlockReceipt<P> {
    const rejected: BlockReceipt<P> = { accepted: false, cancel: [], pieceComplete: false }
    const { index, begin, length } = block
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount || this.have.has(index)) {
      return rejected
    }
    const pieceLength = this.lengthOf(index)
    const blockIndex = begin / BLOCK_SIZE
    if (
      !Number.isInteger(blockIndex) ||
      begin < 0 ||
      begin >= pieceLength ||
      length !== Math.min(BLOCK_SIZE, pieceLength - begin)
    ) {
      return rejected
    }
    const key = index * this.blocksPerPiece + blockIndex
    let piece = this.active.get(index)
    if (!piece) {
      if (this.priority[index] === 0) return rejected
      piece = this.activate(index)
    }
    const state = piece.state[blockIndex]
    if (state === RECEIVED) {
      this.peers.get(peer)?.delete(key)
      return rejected
    }
    const cancel: P[] = []
    if (state === REQUESTED) {
      for (const requester of piece.requesters[blockIndex]!) {
        this.peers.get(requester)?.delete(key)
        if (requester !== peer) cancel.push(requester)
      }
      piece.requesters[blockIndex] = undefined
    } else {
      this.takeFree(piece, blockIndex)
    }
    piece.state[blockIndex] = RECEIVED
    piece.received++
    piece.contributors.add(peer)
    return { accepted: true, cancel, pieceComplete: piece.received === piece.state.length }
  }

  /**
   * `peer` will not deliver `block` (BEP 6 `reject`, or we sent `cancel`): it goes back to the pool
   * unless other peers have it requested.
   */
  requestFailed(peer: P, block: Block): void {
    const requests = this.peers.get(peer)
    const key = block.index * this.blocksPerPiece + block.begin / BLOCK_SIZE
    if (!requests?.delete(key)) return
    this.release(peer, key)
  }

  /**
   * Gives back every request of `peer` sent before `sentBefore` and returns those blocks (send `cancel`
   * for them if you like; a late arrival is still accepted). Per-request timeouts:
   * `expireRequests(peer, now − timeoutMs)`; a snubbed peer, or a choke without the fast extension
   * (BEP 3: the peer discards pending requests): `expireRequests(peer, Infinity)`.
   */
  /**
   * Takes back the peer's requests for pieces `keep` rejects (a reader seeked away from them), so they
   * are asked again in the new order; returns them, to send `cancel`s.
   */
  releaseRequests(peer: P, keep: (index: number) => boolean): Block[] {
    const released: Block[] = []
    const requests = this.peers.get(peer)
    if (!requests) return released
    for (const key of [...requests.keys()]) {
      const block = this.blockOf(key)
      if (keep(block.index)) continue
      requests.delete(key)
      this.release(peer, key)
      released.push(block)
    }
    return released
  }

  expireRequests(peer: P, sentBefore: number): Block[] {
    const expired: Block[] = []
    const requests = this.peers.get(peer)
    if (!requests) return expired
    for (const [key, requestedAt] of requests) {
      if (requestedAt >= sentBefore) break
      requests.delete(key)
      this.release(peer, key)
      expired.push(this.blockOf(key))
    }
    return expired
  }

  /** The peer disconnected: its outstanding requests go back to the pool and it is forgotten. */
  peerGone(peer: P): void {
    const requests = this.peers.get(peer)
    if (!requests) return
    this.peers.delete(peer)
    for (const key of requests.keys()) this.release(peer, key)
  }

  /** Whether `block` is outstanding at `peer` (requested and neither answered nor given back). */
  isRequestedFrom(peer: P, block: Block): boolean {
    return this.peers.get(peer)?.has(block.index * this.blocksPerPiece + block.begin / BLOCK_SIZE) ?? false
  }

  /** Requests outstanding at `peer`. */
  outstanding(peer: P): number {
    return this.peers.get(peer)?.size ?? 0
  }

  /** When the oldest request outstanding at `peer` was sent (for `isSnubbed`); `undefined` if none. */
  oldestRequestAt(peer: P): number | undefined {
    const requests = this.peers.get(peer)
    if (!requests) return undefined
    for (const requestedAt of requests.values()) return requestedAt
    return undefined
  }

  // Pieces.

  /**
   * Piece `index` passed its hash check (or was found complete on disk): it is done, and requests still
   * recorded for it are dropped.
   */
  pieceVerified(index: number): void {
    this.checkIndex(index)
    if (this.have.has(index)) return
    this.freeWanted -= this.freeContribution(index)
    this.deactivate(index)
    if (this.freshPosition[index]! >= 0) this.removeFresh(index)
    this.have.set(index)
    if (this.priority[index]! > 0) this.left--
  }

  /**
   * Piece `index` failed its hash check (or its verified data was lost): every block is wanted again.
   * Returns the peers that contributed blocks, to charge them (DESIGN §2.6).
   */
  pieceFailed(index: number): P[] {
    this.checkIndex(index)
    const contributors = [...(this.active.get(index)?.contributors ?? [])]
    const before = this.freeContribution(index)
    this.deactivate(index)
    if (this.have.clear(index) && this.priority[index]! > 0) this.left++
    if (this.priority[index]! > 0 && this.freshPosition[index]! < 0) this.addFresh(index)
    this.freeWanted += this.freeContribution(index) - before
    return contributors
  }

  // Internals.

  /** The piece to take free blocks from next, activating a fresh one if that is the choice. */
  private nextPiece(has: Bitfield | 'all'): ActivePiece<P> | undefined {
    for (const index of this.urgent) {
      if (this.have.has(index) || this.priority[index] === 0 || !peerHasPiece(has, index)) continue
      const active = this.active.get(index)
      if (active) {
        if (active.free > 0) return active
      } else if (this.freshPosition[index]! >= 0) return this.activate(index)
    }
    let best: ActivePiece<P> | undefined
    let bestPriority = 0
    for (const piece of this.open) {
      const priority = this.priority[piece.index]!
      if (priority === 0 || priority < bestPriority || !peerHasPiece(has, piece.index)) continue
      if (
        best === undefined ||
        priority > bestPriority ||
        piece.free < best.free ||
        (piece.free === best.free && piece.index < best.index)
      ) {
        best = piece
        bestPriority = priority
      }
    }
    const fresh = this.pickFresh(has, bestPriority + 1)
    return fresh >= 0 ? this.activate(fresh) : best
  }

  /** A fresh piece the peer has with priority ≥ `minPriority`, highest priority first; −1 if none. */
  private pickFresh(has: Bitfield | 'all', minPriority: number): number {
    const randomly = this.have.count < this.randomFirstPieces
    for (let priority = MAX_PRIORITY; priority >= minPriority; priority--) {
      if (this.freshTotal[priority] === 0) continue
      const index = randomly ? this.randomFresh(has, priority) : this.rarestFresh(has, priority)
      if (index >= 0) return index
    }
    return -1
  }

  private rarestFresh(has: Bitfield | 'all', priority: number): number {
    const buckets = this.fresh[priority]!
    // A counted bitfield adds 1 to each of its pieces: it holds none of the pieces nobody else announced.
    for (let availability = has === 'all' ? 0 : 1; availability < buckets.length; availability++) {
      const bucket = buckets[availability]!
      const size = bucket.length
      if (size === 0) continue
      // A random starting point spreads peers over equally rare pieces.
      const start = Math.floor(this.random() * size)
      for (let step = 0; step < size; step++) {
        const index = bucket[(start + step) % size]!
        if (peerHasPiece(has, index)) return index
      }
    }
    return -1
  }

  private randomFresh(has: Bitfield | 'all', priority: number): number {
    const start = Math.floor(this.random() * this.pieceCount)
    for (let step = 0; step < this.pieceCount; step++) {
      const index = (start + step) % this.pieceCount
      if (this.freshPosition[index]! >= 0 && this.priority[index] === priority && peerHasPiece(has, index)) {
        return index
      }
    }
    return -1
  }

  private requestFree(
    piece: ActivePiece<P>,
    peer: P,
    requests: Map<number, number>,
    count: number,
    now: number,
    picked: Block[],
  ): void {
    const base = piece.index * this.blocksPerPiece
    for (let block = piece.firstFree; block < piece.state.length && picked.length < count; block++) {
      if (piece.state[block] !== FREE) continue
      this.takeFree(piece, block)
      piece.state[block] = REQUESTED
      piece.requesters[block] = [peer]
      requests.set(base + block, now)
      picked.push(this.blockOf(base + block))
    }
  }

  /**
   * The reader's very next piece: its blocks requested from others at least `urgentDuplicateMs` ago are
   * asked of this peer too, so one slow peer does not hold the reader up (the first copy wins).
   */
  private requestSlowUrgent(
    peer: PickPeer<P>,
    requests: Map<number, number>,
    count: number,
    now: number,
    picked: Block[],
  ): void {
    const next = this.urgent.find((index) => !this.have.has(index) && this.priority[index]! > 0)
    const piece = next === undefined ? undefined : this.active.get(next)
    if (!piece || !peerHasPiece(peer.has, piece.index)) return
    const base = piece.index * this.blocksPerPiece
    for (let block = 0; block < piece.state.length && picked.length < count; block++) {
      const requesters = piece.requesters[block]
      if (!requesters || requesters.length >= this.endGameRequesters || requesters.includes(peer.id)) continue
      const key = base + block
      const oldest = Math.min(...requesters.map((other) => this.peers.get(other)?.get(key) ?? now))
      if (now - oldest < this.urgentDuplicateMs) continue
      requesters.push(peer.id)
      requests.set(key, now)
      picked.push(this.blockOf(key))
    }
  }

  /** End-game: blocks requested from others (fewest requesters first), not yet from this peer. */
  private requestDuplicates(
    peer: PickPeer<P>,
    requests: Map<number, number>,
    count: number,
    now: number,
    picked: Block[],
  ): void {
    const candidates: { piece: ActivePiece<P>; block: number; requesters: P[] }[] = []
    for (const piece of this.active.values()) {
      if (this.priority[piece.index] === 0 || !peerHasPiece(peer.has, piece.index)) continue
      for (let block = 0; block < piece.state.length; block++) {
        const requesters = piece.requesters[block]
        if (requesters && requesters.length < this.endGameRequesters && !requesters.includes(peer.id)) {
          candidates.push({ piece, block, requesters })
        }
      }
    }
    candidates.sort((a, b) => a.requesters.length - b.requesters.length)
    for (const { piece, block, requesters } of candidates) {
      if (picked.length >= count) break
      const key = piece.index * this.blocksPerPiece + block
      requesters.push(peer.id)
      requests.set(key, now)
      picked.push(this.blockOf(key))
    }
  }

  /** Turns FREE block `block` of `piece` into something else; the caller sets the new state. */
  private takeFree(piece: ActivePiece<P>, block: number): void {
    piece.free--
    if (this.priority[piece.index]! > 0) this.freeWanted--
    if (piece.free === 0) this.open.delete(piece)
    if (block === piece.firstFree) piece.firstFree++
  }

  /** `peer` no longer has block `key` requested (already removed from its map). */
  private release(peer: P, key: number): void {
    const index = Math.floor(key / this.blocksPerPiece)
    const block = key - index * this.blocksPerPiece
    const piece = this.active.get(index)
    const requesters = piece?.requesters[block]
    if (!piece || !requesters) return
    const at = requesters.indexOf(peer)
    if (at < 0) return
    requesters.splice(at, 1)
    if (requesters.length > 0) return
    piece.requesters[block] = undefined
    piece.state[block] = FREE
    piece.free++
    if (this.priority[index]! > 0) this.freeWanted++
    piece.firstFree = Math.min(piece.firstFree, block)
    this.open.add(piece)
    if (piece.received === 0 && piece.free === piece.state.length) {
      // Nothing in flight and nothing received: back to the fresh pool, to be ranked by rarity again.
      this.active.delete(index)
      this.open.delete(piece)
      if (this.priority[index]! > 0) this.addFresh(index)
    }
  }

  private activate(index: number): ActivePiece<P> {
    if (this.freshPosition[index]! >= 0) this.removeFresh(index)
    const blocks = this.blocksIn(index)
    const piece: ActivePiece<P> = {
      index,
      state: new Uint8Array(blocks),
      requesters: new Array<P[] | undefined>(blocks).fill(undefined),
      contributors: new Set(),
      free: blocks,
      received: 0,
      firstFree: 0,
    }
    this.active.set(index, piece)
    this.open.add(piece)
    return piece
  }

  /** Drops piece `index`'s block state and every request recorded for it. */
  private deactivate(index: number): void {
    const piece = this.active.get(index)
    if (!piece) return
    const base = index * this.blocksPerPiece
    piece.requesters.forEach((requesters, block) => {
      for (const requester of requesters ?? []) this.peers.get(requester)?.delete(base + block)
    })
    this.active.delete(index)
    this.open.delete(piece)
  }

  /** What piece `index` adds to `freeWanted`. */
  private freeContribution(index: number): number {
    if (this.priority[index] === 0 || this.have.has(index)) return 0
    return this.active.get(index)?.free ?? this.blocksIn(index)
  }

  private changeAvailability(index: number, delta: number): void {
    const old = this.availabilityCount[index]!
    const next = Math.max(0, old + delta)
    if (next === old) return
    const fresh = this.freshPosition[index]! >= 0
    if (fresh) this.removeFresh(index)
    this.availabilityCount[index] = next
    if (fresh) this.addFresh(index)
  }

  private addFresh(index: number): void {
    const priority = this.priority[index]!
    const buckets = this.fresh[priority]!
    const availability = this.availabilityCount[index]!
    while (buckets.length <= availability) buckets.push([])
    const bucket = buckets[availability]!
    this.freshPosition[index] = bucket.length
    bucket.push(index)
    this.freshTotal[priority]!++
  }

  private removeFresh(index: number): void {
    const priority = this.priority[index]!
    const bucket = this.fresh[priority]![this.availabilityCount[index]!]!
    const position = this.freshPosition[index]!
    const last = bucket.pop()!
    if (last !== index) {
      bucket[position] = last
      this.freshPosition[last] = position
    }
    this.freshPosition[index] = -1
    this.freshTotal[priority]!--
  }

  private requestsOf(peer: P): Map<number, number> {
    let requests = this.peers.get(peer)
    if (!requests) {
      requests = new Map()
      this.peers.set(peer, requests)
    }
    return requests
  }

  private blockOf(key: number): Block {
    const index = Math.floor(key / this.blocksPerPiece)
    const begin = (key - index * this.blocksPerPiece) * BLOCK_SIZE
    return { index, begin, length: Math.min(BLOCK_SIZE, this.lengthOf(index) - begin) }
  }

  private lengthOf(index: number): number {
    return index === this.pieceCount - 1 ? this.lastPieceLength : this.pieceLength
  }

  private blocksIn(index: number): number {
    return blockCount(this.lengthOf(index))
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`piece-picker: piece ${index} is outside 0..${this.pieceCount - 1}`)
    }
  }

  private checkBitfield(bitfield: Bitfield): void {
    if (bitfield.length !== this.pieceCount) {
      throw new RangeError(`piece-picker: bitfield has ${bitfield.length} bits, expected ${this.pieceCount}`)
    }
  }
}

/**
 * Piece priorities from file priorities (0 = skip): a piece gets the highest priority of the files it
 * overlaps, since a wanted file's first and last bytes may share a piece with a skipped file. Give BEP 47
 * padding files 0. Empty files cover no piece.
 */
export function filePiecePriorities(
  layout: Pick<FileLayout, 'pieceCount' | 'piecesForFile'>,
  filePriorities: readonly number[],
): Uint8Array {
  const priorities = new Uint8Array(layout.pieceCount)
  filePriorities.forEach((priority, file) => {
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      throw new RangeError(`piece-picker: file ${file} priority ${priority} is outside 0..${MAX_PRIORITY}`)
    }
    const range = layout.piecesForFile(file)
    if (!range) return
    for (let piece = range[0]; piece <= range[1]; piece++) {
      if (priority > priorities[piece]!) priorities[piece] = priority
    }
  })
  return priorities
}

function peerHasPiece(has: Bitfield | 'all', index: number): boolean {
  return has === 'all' || has.has(index)
}

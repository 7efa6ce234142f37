// Blocks arriving from peers: each is checked against what we asked that peer for, copied into its
// piece's buffer with its sender noted (for the smart ban), and a full piece is handed back to be
// verified. Requests we gave up on (expired, cancelled, choked away) are remembered per peer, so an
// answer still in flight is taken once and not held against the peer. Socket-free: the caller sends the
// cancels this returns.
import type { FileLayout } from '@bt/metainfo'
import { BLOCK_SIZE } from './block-requests.js'
import { PieceBuffers } from './piece-buffers.js'
import type { Block, PiecePicker } from './piece-picker.js'

/** Released requests remembered per peer; older ones are forgotten (a late answer is then unasked). */
const MAX_RELEASED = 4096

/** A piece whose blocks all arrived, with who sent each block. */
export interface AssembledPiece<P> {
  readonly index: number
  readonly data: Uint8Array
  readonly senders: readonly (P | undefined)[]
}

export type BlockOutcome<P> =
  /** Not asked of this peer, or not the length asked: count it against the peer. */
  | { readonly kind: 'unasked' }
  /** Asked, but another peer's copy came first (end game) or it arrived after we gave up: dropped. */
  | { readonly kind: 'redundant' }
  /** Kept; `cancel` lists the peers whose duplicate requests were released (send them a cancel). */
  | {
      readonly kind: 'accepted'
      readonly cancel: readonly P[]
      readonly piece: AssembledPiece<P> | undefined
    }

export class BlockIntake<P extends object> {
  private readonly picker: PiecePicker<P>
  private readonly layout: FileLayout
  private readonly buffers = new Map<number, { data: Uint8Array; senders: (P | undefined)[] }>()
  private readonly released = new WeakMap<P, Set<string>>()
  /** Where piece buffers come from; give an assembled piece's `data` back here once it is written. */
  readonly pieceBuffers: PieceBuffers

  constructor(picker: PiecePicker<P>, layout: FileLayout, pieceBuffers = new PieceBuffers()) {
    this.picker = picker
    this.layout = layout
    this.pieceBuffers = pieceBuffers
  }

  /** Pieces being assembled (their buffers are what a download holds in memory). */
  get piecesInFlight(): number {
    return this.buffers.size
  }

  receive(peer: P, index: number, begin: number, block: Uint8Array): BlockOutcome<P> {
    const asked = { index, begin, length: block.length }
    const rightLength =
      index < this.layout.pieceCount &&
      block.length === Math.min(BLOCK_SIZE, this.layout.pieceLengthAt(index) - begin)
    const wasAsked =
      rightLength && (this.picker.isRequestedFrom(peer, asked) || this.forgetReleased(peer, asked))
    if (!wasAsked) return { kind: 'unasked' }
    const receipt = this.picker.blockReceived(peer, asked)
    if (!receipt.accepted) return { kind: 'redundant' }
    let buffer = this.buffers.get(index)
    if (!buffer) {
      const length = this.layout.pieceLengthAt(index)
      buffer = { data: this.pieceBuffers.take(length), senders: new Array(Math.ceil(length / BLOCK_SIZE)) }
      this.buffers.set(index, buffer)
    }
    buffer.data.set(block, begin)
    buffer.senders[begin / BLOCK_SIZE] = peer
    for (const other of receipt.cancel) this.release(other, [asked])
    let piece: AssembledPiece<P> | undefined
    if (receipt.pieceComplete) {
      this.buffers.delete(index)
      piece = { index, data: buffer.data, senders: buffer.senders }
    }
    return { kind: 'accepted', cancel: receipt.cancel, piece }
  }

  /** Takes back the peer's requests sent before `sentBefore` (all with `Infinity`) for other peers. */
  expire(peer: P, sentBefore: number): Block[] {
    const expired = this.picker.expireRequests(peer, sentBefore)
    this.release(peer, expired)
    return expired
  }

  /** We stopped waiting for these blocks from the peer; their answers may still be in flight. */
  release(peer: P, blocks: readonly Block[]): void {
    if (blocks.length === 0) return
    let released = this.released.get(peer)
    if (!released || released.size + blocks.length > MAX_RELEASED) {
      released = new Set()
      this.released.set(peer, released)
    }
    for (const block of blocks) released.add(`${block.index}:${block.begin}`)
  }

  private forgetReleased(peer: P, block: Block): boolean {
    return this.released.get(peer)?.delete(`${block.index}:${block.begin}`) ?? false
  }
}

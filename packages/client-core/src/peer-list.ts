// Every peer a torrent has heard of (trackers, PEX, incoming), and which of them to dial next: peers
// that failed wait longer each time, banned peers stay out. Keyed by `host:port`, never by host alone —
// on loopback and behind NATs many honest peers share one IP.
import { formatPeerAddress, type PeerAddress } from '@bt/peer-address'
import {
  connectPeer,
  HandshakeError,
  type PeerConnection,
  type PeerConnectionInit,
  type PeerConnectionOptions,
} from '@bt/peer-wire'

export type PeerSource = 'tracker' | 'pex' | 'incoming' | 'manual'

export interface PeerCandidate {
  readonly key: string
  readonly address: PeerAddress
  source: PeerSource
  /** Consecutive failed connection attempts (reset by a successful handshake). */
  failures: number
  /** Not dialled before this time (ms). */
  retryAt: number
  state: 'idle' | 'connecting' | 'connected'
  banned: boolean
}

export interface PeerListInit {
  /** Known peers kept at most; new ones beyond are ignored. Default 2000. */
  maxKnown?: number
  /** Delay after the first failure; doubles per failure up to `maxRetryDelayMs`. Default 10 s. */
  retryDelayMs?: number
  maxRetryDelayMs?: number
  /** Give up on a peer after this many consecutive failures. Default 8. */
  maxFailures?: number
}

export class PeerList {
  private readonly peers = new Map<string, PeerCandidate>()
  private readonly init: Required<PeerListInit>
  /** Our own listen addresses: trackers return us in their lists. */
  private readonly self = new Set<string>()

  constructor(init: PeerListInit = {}) {
    this.init = {
      maxKnown: init.maxKnown ?? 2000,
      retryDelayMs: init.retryDelayMs ?? 10_000,
      maxRetryDelayMs: init.maxRetryDelayMs ?? 10 * 60_000,
      maxFailures: init.maxFailures ?? 8,
    }
  }

  get size(): number {
    return this.peers.size
  }

  /** Marks an address as ours so it is never dialled. */
  addSelf(address: PeerAddress): void {
    this.self.add(formatPeerAddress(address))
    this.peers.delete(formatPeerAddress(address))
  }

  /** Adds a peer; returns its candidate, or `undefined` if it is us, banned, invalid or the list is full. */
  add(address: PeerAddress, source: PeerSource): PeerCandidate | undefined {
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) return undefined
    const key = formatPeerAddress(address)
    if (this.self.has(key)) return undefined
    const known = this.peers.get(key)
    if (known) return known.banned ? undefined : known
    if (this.peers.size >= this.init.maxKnown) return undefined
    const candidate: PeerCandidate = {
      key,
      address,
      source,
      failures: 0,
      retryAt: 0,
      state: 'idle',
      banned: false,
    }
    this.peers.set(key, candidate)
    return candidate
  }

  /** Adds every peer (as `add`); returns how many were not known before. */
  addAll(addresses: readonly PeerAddress[], source: PeerSource): number {
    const before = this.peers.size
    for (const address of addresses) this.add(address, source)
    return this.peers.size - before
  }

  get(key: string): PeerCandidate | undefined {
    return this.peers.get(key)
  }

  /** Up to `count` peers to dial now, fewest failures first; they are marked `connecting`. */
  takeForDialling(count: number, now: number): PeerCandidate[] {
    const ready: PeerCandidate[] = []
    for (const peer of this.peers.values()) {
      if (peer.state === 'idle' && !peer.banned && peer.retryAt <= now) ready.push(peer)
    }
    ready.sort((a, b) => a.failures - b.failures)
    const chosen = ready.slice(0, Math.max(0, count))
    for (const peer of chosen) peer.state = 'connecting'
    return chosen
  }

  /** When the next idle peer becomes diallable (ms), or `undefined` if none will. */
  nextRetryAt(): number | undefined {
    let next: number | undefined
    for (const peer of this.peers.values()) {
      if (peer.state === 'idle' && !peer.banned && (next === undefined || peer.retryAt < next))
        next = peer.retryAt
    }
    return next
  }

  connected(key: string): void {
    const peer = this.peers.get(key)
    if (!peer) return
    peer.state = 'connected'
    peer.failures = 0
  }

  /**
   * The connection ended. `failed` (refused, timed out, protocol error) backs the peer off, and drops it
   * after `maxFailures`; a clean end lets it be dialled again after the base delay.
   */
  disconnected(key: string, failed: boolean, now: number): void {
    const peer = this.peers.get(key)
    if (!peer) return
    peer.state = 'idle'
    if (!failed) {
      peer.retryAt = now + this.init.retryDelayMs
      return
    }
    peer.failures++
    if (peer.failures >= this.init.maxFailures && !peer.banned) {
      this.peers.delete(key)
      return
    }
    peer.retryAt =
      now + Math.min(this.init.maxRetryDelayMs, this.init.retryDelayMs * 2 ** (peer.failures - 1))
  }

  /** Peers we left on good terms (a pause) may be dialled again right away. */
  forgiveCleanDisconnects(): void {
    for (const peer of this.peers.values()) if (peer.state === 'idle' && peer.failures === 0) peer.retryAt = 0
  }

  /** Keeps the peer out for the rest of the session (it stays listed so it is not re-added). */
  ban(key: string): void {
    const peer = this.peers.get(key)
    if (peer) peer.banned = true
  }

  isBanned(key: string): boolean {
    return this.peers.get(key)?.banned ?? false
  }

  /** Peers we are connected to or could dial, for PEX and status. */
  *all(): IterableIterator<PeerCandidate> {
    yield* this.peers.values()
  }
}

/**
 * Dials a candidate the list handed out. Resolves with the open connection, or `undefined` when it
 * failed: the peer is then backed off, or, when it was ourselves, never dialled again.
 */
export async function dialCandidate(
  peers: PeerList,
  candidate: PeerCandidate,
  init: PeerConnectionInit,
  options: PeerConnectionOptions,
): Promise<PeerConnection | undefined> {
  try {
    return await connectPeer(candidate.address, init, options)
  } catch (error) {
    if (error instanceof HandshakeError && error.reason === 'self-connection')
      peers.addSelf(candidate.address)
    else peers.disconnected(candidate.key, true, Date.now())
    return undefined
  }
}

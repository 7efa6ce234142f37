// Every peer a swarm has heard of (trackers, PEX, the caller, incoming connections), and which of them to
// dial next: peers that failed wait longer each time, peers on a banned IP stay out. Keyed by `host:port`,
// never by host alone — on loopback and behind NATs many honest peers share one IP; only a ban (the
// client's `BanList`) is per IP.
import { formatPeerAddress, type PeerAddress } from '@bt/peer-address'
import type { DialFailure } from './alerts.js'
import type { BanList } from './ban-list.js'

export type PeerSource = 'tracker' | 'dht' | 'pex' | 'incoming' | 'manual'

export interface PeerCandidate {
  readonly key: string
  readonly address: PeerAddress
  readonly source: PeerSource
  /**
   * False for a peer that dialled us from a port nobody listens on (incoming): it is listed while
   * connected, so it counts and can be banned, and forgotten when it leaves.
   */
  readonly dialable: boolean
  /** Consecutive failed connection attempts (reset by a successful handshake). */
  failures: number
  /** How the last attempt failed; `undefined` once a connection opened. */
  lastFailure: DialFailure | undefined
  /** Not dialled before this time (ms). */
  retryAt: number
  state: 'idle' | 'connecting' | 'connected'
}

export interface PeerListInit {
  /** Known peers kept at most; new ones beyond are ignored. Default 2000. */
  maxKnown?: number
  /** Delay after the first failure; doubles per failure up to `maxRetryDelayMs`. Default 10 s. */
  retryDelayMs?: number
  maxRetryDelayMs?: number
  /** Give up on a peer after this many consecutive failures. Default 8. */
  maxFailures?: number
  /** Peers on these addresses are neither listed nor dialled. */
  bans?: BanList
}

export class PeerList {
  private readonly peers = new Map<string, PeerCandidate>()
  private readonly init: Required<Omit<PeerListInit, 'bans'>>
  private readonly bans: BanList | undefined
  /** Our own listen addresses: trackers return us in their lists. */
  private readonly self = new Set<string>()

  constructor(init: PeerListInit = {}) {
    this.init = {
      maxKnown: init.maxKnown ?? 2000,
      retryDelayMs: init.retryDelayMs ?? 10_000,
      maxRetryDelayMs: init.maxRetryDelayMs ?? 10 * 60_000,
      maxFailures: init.maxFailures ?? 8,
    }
    this.bans = init.bans
  }

  get size(): number {
    return this.peers.size
  }

  /** Marks an address as ours so it is never dialled. */
  addSelf(address: PeerAddress): void {
    this.self.add(formatPeerAddress(address))
    this.peers.delete(formatPeerAddress(address))
  }

  /** Adds a peer to dial; returns its candidate, or `undefined` if it is us, banned, invalid or the list is full. */
  add(address: PeerAddress, source: Exclude<PeerSource, 'incoming'>): PeerCandidate | undefined {
    return this.insert(address, source, true)
  }

  /** Adds every peer (as `add`); returns how many were not known before. */
  addAll(addresses: readonly PeerAddress[], source: Exclude<PeerSource, 'incoming'>): number {
    const before = this.peers.size
    for (const address of addresses) this.add(address, source)
    return this.peers.size - before
  }

  /**
   * A peer that connected to us, as `connected`: listed even when the list is full (it holds a
   * connection slot already). `undefined` if its address is banned or the key is taken by a connection.
   */
  addIncoming(address: PeerAddress): PeerCandidate | undefined {
    const known = this.peers.get(formatPeerAddress(address))
    if (known && known.state !== 'idle') return undefined
    const candidate = known ?? this.insert(address, 'incoming', false, true)
    if (candidate) this.connected(candidate.key)
    return candidate
  }

  get(key: string): PeerCandidate | undefined {
    return this.peers.get(key)
  }

  /** Up to `count` peers to dial now, fewest failures first; they are marked `connecting`. */
  takeForDialling(count: number, now: number): PeerCandidate[] {
    const ready: PeerCandidate[] = []
    for (const peer of this.peers.values()) if (this.ready(peer, now)) ready.push(peer)
    ready.sort((a, b) => a.failures - b.failures)
    const chosen = ready.slice(0, Math.max(0, count))
    for (const peer of chosen) peer.state = 'connecting'
    return chosen
  }

  /** Whether some peer could be dialled now. */
  hasReady(now: number): boolean {
    for (const peer of this.peers.values()) if (this.ready(peer, now)) return true
    return false
  }

  connected(key: string): void {
    const peer = this.peers.get(key)
    if (!peer) return
    peer.state = 'connected'
    peer.failures = 0
    peer.lastFailure = undefined
  }

  /** Dialling failed: the peer backs off, and is dropped after `maxFailures` in a row. */
  dialFailed(key: string, failure: DialFailure, now: number): void {
    const peer = this.peers.get(key)
    if (!peer) return
    peer.state = 'idle'
    peer.lastFailure = failure
    this.backOff(peer, now)
  }

  /**
   * A connection ended. `failed` (a protocol error, a timeout, dropped for being useless to us) backs
   * the peer off, and drops it after `maxFailures`; a clean end lets it be dialled again after the base
   * delay. A peer we cannot dial back is forgotten.
   */
  disconnected(key: string, failed: boolean, now: number): void {
    const peer = this.peers.get(key)
    if (!peer) return
    peer.state = 'idle'
    if (!peer.dialable) {
      this.peers.delete(key)
      return
    }
    if (failed) this.backOff(peer, now)
    else peer.retryAt = now + this.init.retryDelayMs
  }

  /** Peers we left on good terms (a pause) may be dialled again right away. */
  forgiveCleanDisconnects(): void {
    for (const peer of this.peers.values()) if (peer.state === 'idle' && peer.failures === 0) peer.retryAt = 0
  }

  /**
   * When no peer is connected or being dialled and every one of them failed its last attempt: how many
   * failed which way. `undefined` while some peer is connected, being dialled, or never tried.
   */
  allFailed(): Record<DialFailure, number> | undefined {
    const failures: Record<DialFailure, number> = { connect: 0, handshake: 0, protocol: 0 }
    if (this.peers.size === 0) return undefined
    for (const peer of this.peers.values()) {
      if (peer.state !== 'idle' || peer.lastFailure === undefined) return undefined
      failures[peer.lastFailure]++
    }
    return failures
  }

  /** Every listed peer, for PEX and status. */
  *all(): IterableIterator<PeerCandidate> {
    yield* this.peers.values()
  }

  private ready(peer: PeerCandidate, now: number): boolean {
    return (
      peer.state === 'idle' &&
      peer.dialable &&
      peer.retryAt <= now &&
      !(this.bans?.isBanned(peer.address.host) ?? false)
    )
  }

  private insert(
    address: PeerAddress,
    source: PeerSource,
    dialable: boolean,
    evenIfFull = false,
  ): PeerCandidate | undefined {
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) return undefined
    const key = formatPeerAddress(address)
    if (this.self.has(key) || this.bans?.isBanned(address.host)) return undefined
    const known = this.peers.get(key)
    if (known) return known
    if (this.peers.size >= this.init.maxKnown && !evenIfFull) return undefined
    const candidate: PeerCandidate = {
      key,
      address,
      source,
      dialable,
      failures: 0,
      lastFailure: undefined,
      retryAt: 0,
      state: 'idle',
    }
    this.peers.set(key, candidate)
    return candidate
  }

  private backOff(peer: PeerCandidate, now: number): void {
    peer.failures++
    if (peer.failures >= this.init.maxFailures) {
      this.peers.delete(peer.key)
      return
    }
    peer.retryAt =
      now + Math.min(this.init.maxRetryDelayMs, this.init.retryDelayMs * 2 ** (peer.failures - 1))
  }
}

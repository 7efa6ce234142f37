// The peers of one torrent or metadata fetch: the peer list, dialling it under a connection budget,
// taking incoming connections, and the open sessions — one implementation for `Torrent` and
// `MetadataFetch`. A ban is on the IP address, through the client's `BanList`: every swarm closes its
// connections from a banned address, and neither dials nor accepts it again. When the budget is full and
// candidates wait, a connection its owner calls useless gives its slot up (rotation), so peers that
// take a slot and send nothing cannot starve the download. With the client's uTP socket, peers are
// dialled over uTP first and over TCP when that goes unanswered; which one reached a peer (or which one
// it reached us over) is remembered for its next dial.
import { canonicalIp, type PeerAddress } from '@bt/peer-address'
import {
  HandshakeError,
  type PeerConnection,
  PeerConnectionError,
  type PeerConnectionInit,
  PeerTimeoutError,
} from '@bt/peer-wire'
import type { UtpSocket } from '@bt/utp'
import type { Alert, BanReason, DialFailure, DropReason } from './alerts.js'
import type { BanList } from './ban-list.js'
import type { ConnectionBudget, ReleaseSlot } from './connection-budget.js'
import { DEFAULT_ENCRYPTION, type EncryptionPolicy } from './encryption-policy.js'
import { dialPeer, type PeerTransport } from './peer-dialer.js'
import { PeerList, type PeerSource } from './peer-list.js'

/** What the swarm knows of an open connection; owners extend it with their own per-peer state. */
export interface SwarmPeer {
  /** The peer list's key (`host:port`, the source port for an incoming peer). */
  readonly key: string
  readonly address: PeerAddress
  readonly conn: PeerConnection
  readonly incoming: boolean
  readonly transport: PeerTransport
  readonly openedAt: number
}

/** How patiently peers are dialled; torrents and fetches pass their own on to their swarm. */
export interface DialOptions {
  /** Back-off after a peer's first failure; doubles per failure. Default 10 s. */
  peerRetryDelayMs?: number | undefined
  /** Default 10 s. */
  connectTimeoutMs?: number | undefined
  /** Default 10 s. */
  handshakeTimeoutMs?: number | undefined
  /**
   * Message stream encryption when dialling (see `EncryptionPolicy`), or a function read at every dial
   * (a client passes its own, so `Client.setEncryption` reaches torrents already running). Default `prefer`.
   */
  encryption?: EncryptionPolicy | (() => EncryptionPolicy) | undefined
  /**
   * A uTP socket to dial over first (falling back to TCP), or a function read at every dial (a client
   * passes its own, so it follows `listen()`). Default none: TCP only.
   */
  utp?: UtpSocket | (() => UtpSocket | undefined) | undefined
  /** How long a uTP SYN waits before TCP is tried, for a peer not known to speak uTP. Default 3 s. */
  utpConnectTimeoutMs?: number | undefined
}

/** The dial options of a larger init object. */
export function dialOptions({
  peerRetryDelayMs,
  connectTimeoutMs,
  handshakeTimeoutMs,
  encryption,
  utp,
  utpConnectTimeoutMs,
}: DialOptions): DialOptions {
  return { peerRetryDelayMs, connectTimeoutMs, handshakeTimeoutMs, encryption, utp, utpConnectTimeoutMs }
}

export interface SwarmInit<S extends SwarmPeer> extends DialOptions {
  /** What our side of every connection says. */
  connectionInit: PeerConnectionInit
  /** This owner's connection cap (usually a child of the client's). */
  budget: ConnectionBudget
  bans: BanList
  /** The owner stopped: nothing is dialled or accepted any more. */
  signal: AbortSignal
  /** Whether the owner wants connections now (not paused, not finished). */
  wantsPeers(): boolean
  /** Makes the owner's session for a new connection (and attaches its message listeners). */
  createSession(peer: SwarmPeer): S
  /** The swarm holds the new session now: the owner may start talking (or drop it). */
  sessionOpened?(session: S): void
  /** After the swarm forgot a session (its slot is free again). */
  sessionClosed(session: S, reason: Error | undefined): void
  alert(alert: Alert): void
  /** Why this session may give its slot to a waiting candidate, if it may (see `tick`). */
  dropReason?(session: S, now: number): DropReason | undefined
  /** Slots are free but no candidate is left to dial: ask the peer sources (trackers) for more. */
  ranDry?(): void
}

/** Peers remembered as plain-only, or by transport, at most (a peer list holds 2000 by default). */
const MAX_REMEMBERED_PEERS = 4096

export class Swarm<S extends SwarmPeer> {
  readonly peers: PeerList
  private readonly init: SwarmInit<S>
  private readonly byConn = new Map<PeerConnection, S>()
  private readonly slots = new Map<PeerConnection, ReleaseSlot>()
  /** Connections we closed on purpose (a ban, a drop): their end is not reported as a disconnection. */
  private readonly closing = new WeakSet<PeerConnection>()
  private connecting = 0
  /** `peers-unreachable` was reported and nothing changed since. */
  private reportedUnreachable = false
  /** Peers (by key) that hung up on MSE and answered a plain handshake: dialled plain from now on. */
  private readonly plaintextPeers = new Set<string>()
  /** Peers (by key) and the transport that reached them last (or that they reached us over). */
  private readonly transports = new Map<string, PeerTransport>()
  private readonly onBanned = (ip: string) => {
    for (const session of this.byConn.values()) {
      if (canonicalIp(session.address.host) === ip) this.closeOnPurpose(session, new Error('banned'))
    }
  }

  constructor(init: SwarmInit<S>) {
    this.init = init
    this.peers = new PeerList({ retryDelayMs: init.peerRetryDelayMs ?? 10_000, bans: init.bans })
    init.bans.on('banned', this.onBanned)
    init.signal.addEventListener('abort', () => this.stop(), { once: true })
  }

  get size(): number {
    return this.byConn.size
  }

  sessions(): IterableIterator<S> {
    return this.byConn.values()
  }

  /** The session of a connection, for extension callbacks that are handed the connection. */
  sessionOf(conn: PeerConnection): S | undefined {
    return this.byConn.get(conn)
  }

  /** Adds peers to dial (from any source) and dials; returns how many were new. */
  add(peers: readonly PeerAddress[], source: Exclude<PeerSource, 'incoming'>): number {
    const added = this.peers.addAll(peers, source)
    if (added > 0) {
      this.reportedUnreachable = false
      this.dial()
    }
    return added
  }

  /** Takes over a connection a peer opened to us; closes it if the address is banned or no slot is free. */
  accept(conn: PeerConnection, transport: PeerTransport = 'tcp'): void {
    const address = { host: conn.remoteAddress.host, port: conn.remoteAddress.port }
    if (this.init.signal.aborted || !this.init.wantsPeers() || this.init.bans.isBanned(address.host)) {
      conn.close()
      return
    }
    const release = this.init.budget.acquire()
    const candidate = release ? this.peers.addIncoming(address) : undefined
    if (!release || !candidate) {
      release?.()
      conn.close()
      return
    }
    // Over uTP the source port is the peer's listening port (one UDP socket does both): dial it back so.
    if (transport === 'utp') this.remember(this.transports, candidate.key, 'utp')
    this.open(candidate.key, address, conn, true, transport, release)
  }

  /** Dials as many waiting candidates as the budget allows. */
  dial(): void {
    if (this.init.signal.aborted || !this.init.wantsPeers()) return
    const now = Date.now()
    const candidates = this.peers.takeForDialling(this.init.budget.available, now)
    for (const candidate of candidates) {
      const release = this.init.budget.acquire()
      if (!release) {
        this.peers.disconnected(candidate.key, false, now)
        continue
      }
      this.connecting++
      dialPeer(candidate.address, this.init.connectionInit, {
        encryption: this.encryption(),
        plaintextKnown: this.plaintextPeers.has(candidate.key),
        signal: this.init.signal,
        connectTimeoutMs: this.init.connectTimeoutMs ?? 10_000,
        handshakeTimeoutMs: this.init.handshakeTimeoutMs ?? 10_000,
        utp: this.utp(),
        transportKnown: this.transports.get(candidate.key),
        utpConnectTimeoutMs: this.init.utpConnectTimeoutMs,
      }).then(
        ({ conn, fellBack, transport }) => {
          this.connecting--
          if (fellBack) this.remember(this.plaintextPeers, candidate.key)
          this.remember(this.transports, candidate.key, transport)
          this.open(candidate.key, candidate.address, conn, false, transport, release)
        },
        (error: unknown) => {
          this.connecting--
          release()
          this.dialFailed(candidate.key, candidate.address, error)
        },
      )
    }
  }

  private encryption(): EncryptionPolicy {
    const policy = this.init.encryption
    return typeof policy === 'function' ? policy() : (policy ?? DEFAULT_ENCRYPTION)
  }

  private utp(): UtpSocket | undefined {
    const utp = this.init.utp
    return typeof utp === 'function' ? utp() : utp
  }

  /** Remembers `key` (with `value` in a map), bounded like the peer list: the oldest entries go first. */
  private remember(set: Set<string>, key: string): void
  private remember<V>(map: Map<string, V>, key: string, value: V): void
  private remember<V>(into: Set<string> | Map<string, V>, key: string, value?: V): void {
    // A Set and a Map keep insertion order: re-inserting makes an entry the newest.
    into.delete(key)
    if (into.size >= MAX_REMEMBERED_PEERS) {
      const oldest = into.keys().next().value
      if (oldest !== undefined) into.delete(oldest)
    }
    if (into instanceof Map) into.set(key, value as V)
    else into.add(key)
  }

  /** Bans the session's IP address client-wide: every swarm closes its connections from it. */
  ban(session: S, reason: BanReason, detail: string): void {
    this.banAddress(session.address, reason, detail)
    this.closeOnPurpose(session, new Error(`banned: ${detail}`))
  }

  /** Bans `address`'s IP client-wide (also when no connection from it is open). */
  banAddress(address: PeerAddress, reason: BanReason, detail: string): void {
    if (this.init.bans.ban(address.host)) this.init.alert({ type: 'peer-banned', address, reason, detail })
  }

  /** Closes a connection we have no use for; `failed` backs the peer off before it is dialled again. */
  drop(session: S, reason: DropReason, detail: string, failed: boolean): void {
    this.init.alert({ type: 'peer-dropped', address: session.address, reason, detail })
    this.closeOnPurpose(session, failed ? new Error(detail) : undefined)
  }

  /**
   * Once a tick: when no slot is free and candidates wait, the first session its owner calls useless
   * gives its slot up; when slots are free and nobody is left to dial, asks for more peers.
   */
  tick(now: number): void {
    if (this.init.signal.aborted || !this.init.wantsPeers()) return
    const waiting = this.peers.hasReady(now)
    if (waiting && this.init.budget.available === 0 && this.init.dropReason) {
      for (const session of this.byConn.values()) {
        const reason = this.init.dropReason(session, now)
        if (reason === undefined) continue
        this.drop(session, reason, describeDrop(reason), reason === 'snubbed')
        break
      }
    } else if (!waiting && this.init.budget.available > 0) {
      this.init.ranDry?.()
    }
    this.dial()
  }

  /** Closes every connection (a pause or a stop). */
  closeAll(): void {
    for (const session of [...this.byConn.values()]) session.conn.close()
  }

  private open(
    key: string,
    address: PeerAddress,
    conn: PeerConnection,
    incoming: boolean,
    transport: PeerTransport,
    release: ReleaseSlot,
  ): void {
    if (this.init.signal.aborted || !this.init.wantsPeers() || this.init.bans.isBanned(address.host)) {
      release()
      conn.close()
      this.peers.disconnected(key, false, Date.now())
      return
    }
    this.peers.connected(key)
    this.reportedUnreachable = false
    const session = this.init.createSession({ key, address, conn, incoming, transport, openedAt: Date.now() })
    this.byConn.set(conn, session)
    this.slots.set(conn, release)
    conn.once('close', (reason) => this.closed(session, reason))
    this.init.sessionOpened?.(session)
  }

  private closed(session: S, reason: Error | undefined): void {
    if (!this.byConn.delete(session.conn)) return
    this.slots.get(session.conn)?.()
    this.slots.delete(session.conn)
    this.peers.disconnected(session.key, reason !== undefined, Date.now())
    const stopped = this.init.signal.aborted
    if (reason && !stopped && !this.closing.has(session.conn)) {
      this.init.alert({ type: 'peer-disconnected', address: session.address, error: reason })
    }
    this.init.sessionClosed(session, reason)
    if (!stopped) this.dial()
  }

  private dialFailed(key: string, address: PeerAddress, error: unknown): void {
    if (error instanceof HandshakeError && error.reason === 'self-connection') {
      this.peers.addSelf(address)
      return
    }
    this.peers.dialFailed(key, dialFailure(error), Date.now())
    if (this.init.signal.aborted) return
    this.reportIfUnreachable()
    this.dial()
  }

  /** A silent hang is a bug: when every known peer failed to connect, say so once. */
  private reportIfUnreachable(): void {
    if (this.reportedUnreachable || this.byConn.size > 0 || this.connecting > 0) return
    const failures = this.peers.allFailed()
    if (!failures) return
    this.reportedUnreachable = true
    const encryption = this.encryption()
    this.init.alert({ type: 'peers-unreachable', known: this.peers.size, failures, encryption })
  }

  private closeOnPurpose(session: S, reason: Error | undefined): void {
    this.closing.add(session.conn)
    session.conn.close(reason)
  }

  /** The owner stopped: every session ends now, so its slots are free before `stop()` resolves. */
  private stop(): void {
    this.init.bans.off('banned', this.onBanned)
    for (const session of [...this.byConn.values()]) {
      this.closeOnPurpose(session, undefined)
      this.closed(session, undefined)
    }
  }
}

/** MSE failures where the peer answered, but not as MSE says (`@bt/mse`'s error names). */
const MSE_PROTOCOL_ERRORS = new Set([
  'MseSyncError',
  'MseKeyError',
  'MseVerificationError',
  'MsePaddingError',
  'MseMethodError',
  'MsePlaintextReplyError',
])
/** MSE failures where the peer hung up or went silent mid-handshake. */
const MSE_HANDSHAKE_ERRORS = new Set(['MseClosedError', 'MseTimeoutError'])

/**
 * How a dial failed: before TCP connected, during the BitTorrent (or MSE) handshake, or with a wrong
 * handshake.
 */
export function dialFailure(error: unknown): DialFailure {
  if (error instanceof HandshakeError) return 'protocol'
  if (error instanceof Error && MSE_PROTOCOL_ERRORS.has(error.name)) return 'protocol'
  if (error instanceof Error && MSE_HANDSHAKE_ERRORS.has(error.name)) return 'handshake'
  if (error instanceof PeerTimeoutError) return error.phase === 'connect' ? 'connect' : 'handshake'
  if (error instanceof PeerConnectionError) {
    if (error.closedByPeer) return 'handshake'
    const code = (error.cause as NodeJS.ErrnoException | undefined)?.code
    // A reset after TCP connected is the peer hanging up on our handshake (an MSE-only peer does).
    return code === 'ECONNRESET' || code === 'EPIPE' ? 'handshake' : 'connect'
  }
  return 'connect'
}

const ROTATION_DETAIL: Partial<Record<DropReason, string>> = {
  snubbed: 'sent nothing we asked for while other peers waited for a slot',
  useless: 'had nothing to trade while other peers waited for a slot',
}

function describeDrop(reason: DropReason): string {
  return ROTATION_DETAIL[reason] ?? reason
}

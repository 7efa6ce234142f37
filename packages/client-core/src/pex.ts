// BEP 11 peer exchange (`ut_pex`): connected peers tell each other, about once a minute, which peers they
// connected to (`added`, with one flag byte each) and lost (`dropped`) since their last message. This file
// holds the codec, the diff a message carries, and the per-torrent `PeerExchange` that sends and receives.
import { type BencodeValue, decode, encode } from '@bt/bencode'
import {
  encodeCompactPeers,
  formatPeerAddress,
  ipFromBytes,
  ipToBytes,
  type PeerAddress,
} from '@bt/peer-address'
import type { PeerConnection, PeerExtension } from '@bt/peer-wire'
import { PexMessageError } from './errors.js'

export const UT_PEX = 'ut_pex'

/** The `added.f` bits BEP 11 defines. */
export const PexFlags = {
  /** The peer prefers encryption (`e` in its extended handshake). */
  encryption: 0x01,
  /** A seed, or `upload_only`. */
  seed: 0x02,
  utp: 0x04,
  holepunch: 0x08,
  /** We connected to it: it accepts incoming connections. */
  reachable: 0x10,
} as const

/**
 * BEP 11: besides the first message, at most 50 added and 50 dropped contacts (IPv4 and IPv6 together)
 * per message. We keep to it for every message we send, the first one included.
 */
export const MAX_PEX_PEERS_PER_MESSAGE = 50
/**
 * Peers we learn from a connection's first message. BEP 11 lets the first message be larger; libtorrent
 * puts up to 100 peers in it.
 */
export const MAX_PEX_INITIAL_PEERS = 100
/**
 * A list (added or dropped, both families together) with more entries than this is abuse, not a large
 * swarm: the whole message is refused rather than partly taken, so a flood never reaches the peer list.
 */
export const MAX_PEX_ENTRIES = 200
/** 200 IPv6 entries in each list, with flags, take 7.5 KB: a larger message is padded with junk. */
export const MAX_PEX_MESSAGE_SIZE = 64 * 1024

/** A decoded `ut_pex` message; IPv4 contacts come before IPv6 ones. */
export interface PexMessage {
  added: PeerAddress[]
  /** One flag byte per `added` entry (`PexFlags`); 0 where the sender gave none. */
  addedFlags: number[]
  dropped: PeerAddress[]
}

/** What `encodePexMessage` takes: IPv4 and IPv6 peers mixed; they go to their family's keys. */
export interface PexMessageInit {
  added?: readonly PeerAddress[]
  /** One byte per `added` entry; all 0 when left out. */
  addedFlags?: readonly number[]
  dropped?: readonly PeerAddress[]
}

const ENTRY_SIZE = { 4: 6, 6: 18 } as const

/**
 * Encodes a `ut_pex` payload. Every key is present (empty when there is nothing), and `added.f` always
 * is: libtorrent ignores `added` entries without their flags. Throws `TypeError` for an address that is
 * not a unicast IP literal with a port.
 */
export function encodePexMessage(message: PexMessageInit): Uint8Array {
  const added = message.added ?? []
  const flags = message.addedFlags ?? added.map(() => 0)
  if (flags.length !== added.length) {
    throw new TypeError(`client-core: ${flags.length} flags for ${added.length} added peers`)
  }
  const addedBy = split(added, flags)
  const droppedBy = split(message.dropped ?? [], [])
  return encode({
    added: encodeCompactPeers(addedBy[4].peers, 4),
    'added.f': Uint8Array.from(addedBy[4].flags),
    added6: encodeCompactPeers(addedBy[6].peers, 6),
    'added6.f': Uint8Array.from(addedBy[6].flags),
    dropped: encodeCompactPeers(droppedBy[4].peers, 4),
    dropped6: encodeCompactPeers(droppedBy[6].peers, 6),
  })
}

interface FamilyList {
  peers: PeerAddress[]
  flags: number[]
}

function split(peers: readonly PeerAddress[], flags: readonly number[]): Record<4 | 6, FamilyList> {
  const out: Record<4 | 6, FamilyList> = { 4: { peers: [], flags: [] }, 6: { peers: [], flags: [] } }
  peers.forEach((peer, index) => {
    const usable = checkAddress(peer)
    if (usable === undefined) {
      throw new TypeError(`client-core: cannot share ${JSON.stringify(peer)} over PEX`)
    }
    const flag = flags[index] ?? 0
    if (!Number.isInteger(flag) || flag < 0 || flag > 0xff) {
      throw new TypeError(`client-core: PEX flags must be a byte, got ${flag}`)
    }
    const family = usable.address.host.includes(':') ? 6 : 4
    out[family].peers.push(usable.address)
    out[family].flags.push(flag)
  })
  return out
}

/**
 * Reads a peer's `ut_pex` payload. Unknown keys are ignored; a known key of the wrong type, a compact
 * list whose length is not a whole number of entries, flags that do not match their list, or more than
 * `MAX_PEX_ENTRIES` contacts in a list throw `PexMessageError`. Contacts nobody can connect to (port 0,
 * unspecified, multicast, broadcast) are left out; an IPv4-mapped IPv6 contact becomes IPv4.
 */
export function decodePexMessage(payload: Uint8Array): PexMessage {
  if (payload.length > MAX_PEX_MESSAGE_SIZE) {
    throw new PexMessageError('too-large', `${payload.length} bytes (at most ${MAX_PEX_MESSAGE_SIZE})`)
  }
  let dict: BencodeValue
  try {
    // No copy of the payload: nothing decoded here (byte strings are views into it) outlives this call.
    dict = decode(payload, { strict: false, maxDepth: 4 })
  } catch (error) {
    throw new PexMessageError('not-bencode', `not bencode: ${(error as Error).message}`)
  }
  if (!(dict instanceof Map)) throw new PexMessageError('not-a-dictionary', 'not a dictionary')

  const added4 = contacts(dict, 'added', 4)
  const added6 = contacts(dict, 'added6', 6)
  const dropped4 = contacts(dict, 'dropped', 4)
  const dropped6 = contacts(dict, 'dropped6', 6)
  for (const [kind, count] of [
    ['added', added4.length + added6.length],
    ['dropped', dropped4.length + dropped6.length],
  ] as const) {
    if (count > MAX_PEX_ENTRIES) {
      throw new PexMessageError('too-many', `${count} ${kind} contacts (at most ${MAX_PEX_ENTRIES})`)
    }
  }
  const flags4 = flagBytes(dict, 'added.f', added4.length)
  const flags6 = flagBytes(dict, 'added6.f', added6.length)

  const message: PexMessage = { added: [], addedFlags: [], dropped: [] }
  const addAll = (entries: (PeerAddress | undefined)[], flags: Uint8Array | undefined) =>
    entries.forEach((peer, index) => {
      if (peer === undefined) return
      message.added.push(peer)
      message.addedFlags.push(flags?.[index] ?? 0)
    })
  addAll(added4, flags4)
  addAll(added6, flags6)
  for (const peer of [...dropped4, ...dropped6]) if (peer !== undefined) message.dropped.push(peer)
  return message
}

/** The contacts under `key`, `undefined` where one is unusable (kept so flags stay aligned). */
function contacts(dict: Map<string, BencodeValue>, key: string, family: 4 | 6): (PeerAddress | undefined)[] {
  const bytes = dict.get(key)
  if (bytes === undefined) return []
  if (!(bytes instanceof Uint8Array)) throw new PexMessageError('invalid-field', `${key} is not a string`)
  const size = ENTRY_SIZE[family]
  if (bytes.length % size !== 0) {
    throw new PexMessageError('invalid-field', `${key} is ${bytes.length} bytes, not a multiple of ${size}`)
  }
  const out: (PeerAddress | undefined)[] = []
  for (let at = 0; at < bytes.length; at += size) {
    const ip = bytes.subarray(at, at + size - 2)
    const port = (bytes[at + size - 2]! << 8) | bytes[at + size - 1]!
    out.push(checkAddress({ host: ipFromBytes(ip), port })?.address)
  }
  return out
}

function flagBytes(dict: Map<string, BencodeValue>, key: string, count: number): Uint8Array | undefined {
  const flags = dict.get(key)
  if (flags === undefined) return undefined
  if (!(flags instanceof Uint8Array)) throw new PexMessageError('invalid-field', `${key} is not a string`)
  if (flags.length !== count) {
    throw new PexMessageError('invalid-field', `${key} has ${flags.length} flags for ${count} contacts`)
  }
  return flags
}

// --- addresses ---------------------------------------------------------------------------------------

/**
 * Where an address can be reached from: `local` (loopback, private, link-local, unique-local) or
 * `global`. Addresses nobody can connect to have no scope.
 */
export type AddressScope = 'local' | 'global'

/** A canonical, connectable address (IPv4-mapped IPv6 made IPv4) and its scope; `undefined` if unusable. */
export function checkAddress(peer: PeerAddress): { address: PeerAddress; scope: AddressScope } | undefined {
  if (!Number.isInteger(peer.port) || peer.port < 1 || peer.port > 0xffff) return undefined
  const ip = ipToBytes(peer.host)
  const scope = ip === undefined ? undefined : scopeOf(ip)
  if (ip === undefined || scope === undefined) return undefined
  return { address: { host: ipFromBytes(ip), port: peer.port }, scope }
}

function scopeOf(ip: Uint8Array): AddressScope | undefined {
  const [a = 0, b = 0] = ip
  if (ip.length === 4) {
    // 0.0.0.0/8 is "this network"; 224/4 is multicast, 240/4 reserved, 255.255.255.255 broadcast.
    if (a === 0 || a >= 224) return undefined
    const local =
      a === 127 ||
      a === 10 ||
      (a === 172 && (b & 0xf0) === 16) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    return local ? 'local' : 'global'
  }
  if (a === 0xff) return undefined
  if (ip.subarray(0, 15).every((byte) => byte === 0)) return ip[15] === 1 ? 'local' : undefined
  const local = (a === 0xfe && (b & 0xc0) === 0x80) || (a & 0xfe) === 0xfc
  return local ? 'local' : 'global'
}

/**
 * The contacts of a received message worth dialling: usable, deduplicated, at most `limit`. Local
 * addresses count only from a local sender (as libtorrent does): a peer on the internet naming
 * 192.168.1.1:22 or 127.0.0.1:8080 would make us probe our own network for it.
 */
export function peersToLearn(
  added: readonly PeerAddress[],
  senderHost: string,
  limit: number,
): PeerAddress[] {
  const sender = checkAddress({ host: senderHost, port: 1 })
  const senderLocal = sender?.scope === 'local'
  const seen = new Set<string>()
  const out: PeerAddress[] = []
  for (const peer of added) {
    if (out.length >= limit) break
    const usable = checkAddress(peer)
    if (usable === undefined || (usable.scope === 'local' && !senderLocal)) continue
    const key = formatPeerAddress(usable.address)
    if (seen.has(key)) continue
    seen.add(key)
    out.push(usable.address)
  }
  return out
}

// --- the diff ----------------------------------------------------------------------------------------

/** A connected peer we may tell others about. */
export interface PexCandidate {
  readonly address: PeerAddress
  readonly flags: number
  readonly scope: AddressScope
}

/** Who a message goes to. */
export interface PexRecipient {
  /** `formatPeerAddress` of its own listen address, when known: nobody is told about itself. */
  readonly key?: string | undefined
  /**
   * Where it is: local candidates go to local recipients only. Our LAN stays ours, and a remote peer could
   * not reach it anyway.
   */
  readonly scope: AddressScope
}

/**
 * What to tell `recipient`, told `advertised` so far, when `current` (keyed by `formatPeerAddress`) are
 * connected now: new ones as `added`, gone ones as `dropped`, at most `limit` of each; the rest go out in
 * a later message.
 */
export function pexDiff(
  advertised: ReadonlyMap<string, PeerAddress>,
  current: ReadonlyMap<string, PexCandidate>,
  recipient: PexRecipient,
  limit = MAX_PEX_PEERS_PER_MESSAGE,
): PexMessage {
  const visible = (key: string) => {
    const candidate = current.get(key)
    if (candidate === undefined || key === recipient.key) return undefined
    return candidate.scope === 'local' && recipient.scope !== 'local' ? undefined : candidate
  }
  const diff: PexMessage = { added: [], addedFlags: [], dropped: [] }
  for (const key of current.keys()) {
    if (diff.added.length >= limit) break
    const candidate = visible(key)
    if (candidate === undefined || advertised.has(key)) continue
    diff.added.push(candidate.address)
    diff.addedFlags.push(candidate.flags)
  }
  for (const [key, address] of advertised) {
    if (diff.dropped.length >= limit) break
    if (visible(key) === undefined) diff.dropped.push(address)
  }
  return diff
}

/**
 * The address a connected peer accepts connections on, if we know it: the one we dialled, or for a peer
 * that dialled us its IP with the listen port (`p`) of its extended handshake. Its source port is not one:
 * nobody could connect there.
 */
export function listenAddressOf(conn: PeerConnection): PeerAddress | undefined {
  if (conn.direction === 'outgoing') return conn.remoteAddress
  const port = conn.extendedHandshake?.p
  return port === undefined ? undefined : { host: conn.remoteAddress.host, port }
}

function flagsOf(conn: PeerConnection): number {
  let flags = conn.direction === 'outgoing' ? PexFlags.reachable : 0
  if (conn.peerPieces?.complete === true || conn.extendedHandshake?.dict.get('upload_only') === 1) {
    flags |= PexFlags.seed
  }
  return flags
}

// --- the extension -----------------------------------------------------------------------------------

/** A connection of the torrent, as `PeerExchange.tick` sees it. */
export interface PexConnection {
  readonly conn: PeerConnection
  /** The peer's listen address when the torrent knows better than `listenAddressOf(conn)`. */
  readonly address?: PeerAddress | undefined
  /** The connection runs over uTP: others are told the peer speaks it (flag 0x04, as libtorrent does). */
  readonly utp?: boolean | undefined
}

export interface PeerExchangeInit {
  /** Peers a connection told us about (at most 100 from its first message, 50 from later ones). */
  onPeers(peers: PeerAddress[], from: PeerConnection): void
  /** Time between two messages we send to one peer. Default 60 s (BEP 11: at most one a minute). */
  intervalMs?: number
  /**
   * A peer's messages closer together than this are ignored. Default 30 s: half BEP 11's minute, as
   * timers and a slow socket may bring two honest messages closer together.
   */
  minReceiveIntervalMs?: number
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number
}

export interface PeerExchangeStats {
  messagesSent: number
  /** Messages read (malformed ones included), not counting ignored ones. */
  messagesReceived: number
  /** Messages that came too soon after the peer's previous one. */
  messagesIgnored: number
  malformedMessages: number
  /** Contacts passed to `onPeers`. */
  peersLearned: number
}

interface ConnectionState {
  lastSentAt: number | undefined
  /** What we told the peer is connected: `added` minus `dropped` of every message we sent it. */
  readonly advertised: Map<string, PeerAddress>
  lastReceivedAt: number | undefined
  received: number
}

/**
 * Peer exchange for one torrent. Register `extension` with the connections' extension registry and call
 * `tick` every second with the torrent's connections. Never use it for a private torrent (BEP 27: its
 * peers come from its trackers only) — leave it out of the registry there.
 *
 * A malformed message is ignored and counted, never a reason to disconnect: reading it costs one bounded
 * decode at most every `minReceiveIntervalMs`, and a peer with a broken PEX may still have our pieces.
 */
export class PeerExchange {
  readonly extension: PeerExtension
  private readonly counters: PeerExchangeStats = {
    messagesSent: 0,
    messagesReceived: 0,
    messagesIgnored: 0,
    malformedMessages: 0,
    peersLearned: 0,
  }
  private readonly states = new WeakMap<PeerConnection, ConnectionState>()
  private readonly onPeers: PeerExchangeInit['onPeers']
  private readonly intervalMs: number
  private readonly minReceiveIntervalMs: number
  private readonly now: () => number

  constructor(init: PeerExchangeInit) {
    this.onPeers = init.onPeers
    this.intervalMs = milliseconds('intervalMs', init.intervalMs, 60_000)
    this.minReceiveIntervalMs = milliseconds('minReceiveIntervalMs', init.minReceiveIntervalMs, 30_000)
    this.now = init.now ?? Date.now
    this.extension = { name: UT_PEX, onMessage: (conn, payload) => this.receive(conn, payload) }
  }

  get stats(): Readonly<PeerExchangeStats> {
    return { ...this.counters }
  }

  /**
   * Sends each connection whose peer supports `ut_pex` and whose last message from us is `intervalMs`
   * old (the first one as soon as there is something to say) what changed among the other connections'
   * listen addresses since that message. Connections with nothing new get nothing.
   */
  tick(connected: Iterable<PexConnection>, now = this.now()): void {
    const connections = [...connected]
    const current = new Map<string, PexCandidate>()
    const keyOf = new Map<PeerConnection, string>()
    for (const { conn, address, utp } of connections) {
      if (conn.closed) continue
      const listen = address ?? listenAddressOf(conn)
      const usable = listen === undefined ? undefined : checkAddress(listen)
      if (usable === undefined) continue
      const key = formatPeerAddress(usable.address)
      keyOf.set(conn, key)
      // Two connections to one peer: what either tells about it holds.
      const flags = flagsOf(conn) | (utp === true ? PexFlags.utp : 0) | (current.get(key)?.flags ?? 0)
      current.set(key, { ...usable, flags })
    }
    for (const { conn } of connections) {
      if (conn.closed || conn.extendedHandshake?.m.has(UT_PEX) !== true) continue
      const state = this.stateOf(conn)
      if (state.lastSentAt !== undefined && now - state.lastSentAt < this.intervalMs) continue
      const scope = checkAddress({ host: conn.remoteAddress.host, port: 1 })?.scope ?? 'global'
      const diff = pexDiff(state.advertised, current, { key: keyOf.get(conn), scope })
      if (diff.added.length === 0 && diff.dropped.length === 0) continue
      conn.sendExtended(UT_PEX, encodePexMessage(diff))
      for (const address of diff.added) state.advertised.set(formatPeerAddress(address), address)
      for (const address of diff.dropped) state.advertised.delete(formatPeerAddress(address))
      state.lastSentAt = now
      this.counters.messagesSent++
    }
  }

  /** Drops what is kept for `conn` (it also goes once the connection is garbage). */
  forget(conn: PeerConnection): void {
    this.states.delete(conn)
  }

  private receive(conn: PeerConnection, payload: Uint8Array): void {
    const state = this.stateOf(conn)
    const now = this.now()
    if (state.lastReceivedAt !== undefined && now - state.lastReceivedAt < this.minReceiveIntervalMs) {
      this.counters.messagesIgnored++
      return
    }
    state.lastReceivedAt = now
    this.counters.messagesReceived++
    let message: PexMessage
    try {
      message = decodePexMessage(payload)
    } catch (error) {
      if (!(error instanceof PexMessageError)) throw error
      this.counters.malformedMessages++
      return
    }
    const limit = state.received === 0 ? MAX_PEX_INITIAL_PEERS : MAX_PEX_PEERS_PER_MESSAGE
    state.received++
    const peers = peersToLearn(message.added, conn.remoteAddress.host, limit)
    if (peers.length === 0) return
    this.counters.peersLearned += peers.length
    this.onPeers(peers, conn)
  }

  private stateOf(conn: PeerConnection): ConnectionState {
    let state = this.states.get(conn)
    if (state === undefined) {
      state = {
        lastSentAt: undefined,
        advertised: new Map(),
        lastReceivedAt: undefined,
        received: 0,
      }
      this.states.set(conn, state)
    }
    return state
  }
}

function milliseconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`client-core: ${name} must be a non-negative number of milliseconds, got ${value}`)
  }
  return value
}

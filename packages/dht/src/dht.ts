// A Mainline DHT node (BEP 5): one UDP socket per address family, each with its own routing table
// (BEP 32), answering ping/find_node/get_peers/announce_peer/sample_infohashes and running lookups.
// It owns the sockets and timers and wires the policies (routing table, lookup, tokens, peer store,
// rate limiters) together; those know nothing of sockets.

import { createSocket, type RemoteInfo } from 'node:dgram'
import { lookup as dnsLookup } from 'node:dns/promises'
import { EventEmitter } from 'node:events'
import { type AddressInfo, isIP } from 'node:net'
import { type BencodeDict, bytesToKey, keyToBytes } from '@bt/bencode'
import { canonicalIp, ipFromBytes, ipToBytes, type PeerAddress } from '@bt/peer-address'
import { createExternalIpVoter, isBep42Exempt, isSecureNodeId, secureNodeId } from './bep42.js'
import {
  DhtArgumentError,
  DhtBindError,
  DhtClosedError,
  DhtQueryTimeoutError,
  DhtRemoteError,
} from './errors.js'
import type { DhtEvents, DhtNodeInfo, DhtWarning } from './events.js'
import {
  bytesField,
  compactAddress,
  decodeKrpc,
  decodeNodes,
  encodeError,
  encodeNodes,
  encodeQuery,
  encodeResponse,
  intField,
  KRPC_ERROR,
  type KrpcMessage,
  wantField,
} from './krpc.js'
import {
  type LookupContact,
  type LookupOutcome,
  type LookupReply,
  type LookupStats,
  runLookup,
} from './lookup.js'
import { ID_LENGTH, idToHex, randomIdWithPrefix, randomNodeId } from './node-id.js'
import { createPeerStore, type PeerStoreInit } from './peer-store.js'
import { createRateLimiter, createTokenBucket } from './rate-limiter.js'
import { createRoutingTable, GOOD_MS, K, type RoutingTable } from './routing-table.js'
import { type DhtState, saveDhtState } from './state.js'
import { createTokenIssuer } from './token.js'
import { createTransactions, type Transactions } from './transactions.js'

/** The well-known public routers, used only when nothing else is configured and never under test. */
export const DEFAULT_BOOTSTRAP: readonly string[] = [
  'router.bittorrent.com:6881',
  'router.utorrent.com:6881',
  'dht.transmissionbt.com:6881',
  'dht.libtorrent.org:25401',
]

const VERSION = Uint8Array.of(0x42, 0x54, 0x00, 0x01) // "BT" 0.1
const MAX_VALUES_V4 = 100
const MAX_VALUES_V6 = 50
const MAX_VALUES_READ = 200
const MAX_NODES_READ = 16
const MAX_SAMPLES = 20
const SAMPLE_INTERVAL_S = 6 * 3600
const MAX_TOKEN_BYTES = 64
const MAINTENANCE_MS = 5_000

/**
 * The little of a UDP socket the node uses, so that it can run on a socket someone else owns: a uTP
 * socket's `datagrams()` view (uTP and the DHT share one port, told apart by the first byte). A dgram
 * socket fits it too.
 */
export interface DhtSocket {
  send(datagram: Uint8Array, port: number, address: string, callback?: (error: Error | null) => void): void
  address(): AddressInfo
  on(event: 'message', listener: (datagram: Buffer, remote: RemoteInfo) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  /** Called by `close()`: for a shared view, it only detaches the node. */
  close(callback?: () => void): void
}

export interface DhtInit {
  /** IPv4 address to bind. Default `0.0.0.0`. Ignored with `socket`. */
  host?: string
  /** UDP port. Default 6881; 0 lets the system choose. Ignored with `socket`. */
  port?: number
  /** A bound IPv4 socket to run on instead of binding one (`listen()` binds nothing then). */
  socket?: DhtSocket
  /** Also run an IPv6 node on this address (BEP 32), with its own routing table. */
  host6?: string
  /** UDP port of the IPv6 socket. Default: the IPv4 port actually bound. */
  port6?: number
  /** Our node id. Default: the saved one, else random (replaced by a BEP 42 id once our external IP is known). */
  nodeId?: Uint8Array
  /** What `loadDhtState` returned: our id and the nodes to bootstrap from first. */
  state?: DhtState
  /** Nodes to bootstrap from after the saved ones, e.g. a torrent's `nodes` key (BEP 5); hosts may be names. */
  nodes?: readonly PeerAddress[]
  /**
   * Routers (`host:port`) to bootstrap from last; they are asked but never enter the table. When no
   * bootstrap at all is given, the public routers are used — except under vitest or CI (see `bootstrapRouters`).
   */
  bootstrap?: readonly string[]
  /** BEP 43: send queries with `ro: 1`, never answer any. Default false. */
  readOnly?: boolean
  /** See `RoutingTableInit.restrictIps`. Default true. */
  restrictRoutingIps?: boolean
  /** Hard timeout per query. Default 5000 ms. */
  queryTimeoutMs?: number
  /** Lookup soft timeout: a slower query stops holding a slot. Default 1000 ms. */
  softTimeoutMs?: number
  /** Queries in flight per lookup. Default 3 (plus up to 5 past the soft timeout). */
  alpha?: number
  /** Incoming queries accepted per source IP: `rate` per second averaged, `burst` at once. Default 5/s, 25. */
  queryRateLimit?: { rate: number; burst: number }
  /**
   * Packets sent to one IP: default 3/s, burst 15, so no node ever sees 50 packets from us in 10 s
   * (libtorrent blocks an IP for that).
   */
  perNodeSendLimit?: { rate: number; burst: number }
  /** Packets sent in all. Default 500/s, burst 250. */
  sendBudget?: { rate: number; burst: number }
  /** Refresh buckets unchanged for this long. Default 15 min. */
  refreshIntervalMs?: number
  peerStore?: PeerStoreInit
}

export interface DhtLookupOptions {
  signal?: AbortSignal
  /** Called for each new peer as it is found (the `peer` event fires too). */
  onPeer?: (peer: PeerAddress) => void
}

export interface DhtAnnounceOptions extends DhtLookupOptions {
  /** Port peers should connect to. Ignored with `impliedPort`. */
  port?: number
  /** BEP 5 `implied_port`: nodes take the source port of our UDP packets. */
  impliedPort?: boolean
  /** BEP 33: we have the whole torrent. */
  seed?: boolean
}

export interface DhtGetPeersResult {
  peers: PeerAddress[]
  stats: LookupStats
}

export interface DhtAnnounceResult extends DhtGetPeersResult {
  /** Nodes that accepted our `announce_peer`. */
  announcedTo: number
}

export interface DhtFindNodeResult {
  /** The closest nodes that answered, closest first. */
  nodes: DhtNodeInfo[]
  stats: LookupStats
}

export interface DhtStats {
  /** Routing table sizes per family. */
  nodes: { v4: number; v6: number }
  infoHashesStored: number
  peersStored: number
  queriesReceived: number
  queriesAnswered: number
  queriesSent: number
  responsesReceived: number
  dropped: { malformed: number; rateLimited: number; unmatched: number; sendBudget: number }
}

export interface Dht {
  /** Our current node id (BEP 42 may replace the initial one once our external IP is known). */
  readonly nodeId: Uint8Array
  /** Our external IPv4 address as other nodes report it, once enough agree. */
  readonly externalIp: string | undefined
  /** Binds the socket(s), then bootstraps; resolves after `ready`. */
  start(options?: { signal?: AbortSignal }): Promise<void>
  /**
   * Binds the socket(s) only; resolves once bound (a bind error rejects). For a caller that starts
   * the node, must know it listens, and will not wait for the bootstrap.
   */
  listen(options?: { signal?: AbortSignal }): Promise<void>
  /** The bound IPv4 (or, with `family: 6`, IPv6) address. */
  address(family?: 4 | 6): PeerAddress | undefined
  /** An iterative `get_peers` lookup: the peers found for `infoHash` (20 bytes). */
  getPeers(infoHash: Uint8Array, options?: DhtLookupOptions): Promise<DhtGetPeersResult>
  /** A `get_peers` lookup, then `announce_peer` to the k closest nodes that gave a token. */
  announce(infoHash: Uint8Array, options?: DhtAnnounceOptions): Promise<DhtAnnounceResult>
  /** An iterative `find_node` lookup for `target` (20 bytes). */
  findNode(target: Uint8Array, options?: { signal?: AbortSignal }): Promise<DhtFindNodeResult>
  /** Pings a node and resolves with its id; it joins the table like any node that answers. */
  ping(address: PeerAddress, options?: { signal?: AbortSignal }): Promise<Uint8Array>
  /** A node heard of elsewhere (a peer's BEP 5 `port` message): pinged, and added if it answers. */
  addNode(address: PeerAddress): void
  /** The routing table's nodes. */
  nodes(family?: 4 | 6): DhtNodeInfo[]
  stats(): DhtStats
  /** Our id and the good nodes of both tables, for `saveDhtState`. */
  state(): DhtState
  /** Writes `state()` to `path` atomically. */
  save(path: string): Promise<void>
  close(): Promise<void>
  on<E extends keyof DhtEvents>(event: E, listener: (...args: DhtEvents[E]) => void): this
  once<E extends keyof DhtEvents>(event: E, listener: (...args: DhtEvents[E]) => void): this
  off<E extends keyof DhtEvents>(event: E, listener: (...args: DhtEvents[E]) => void): this
}

/**
 * The routers to bootstrap from: the configured ones; the public defaults only when nothing at all is
 * configured (no routers, no saved or given nodes) and never under vitest or CI, so a test run can
 * never send a packet beyond loopback by forgetting an option.
 */
export function bootstrapRouters(
  init: Pick<DhtInit, 'bootstrap' | 'nodes' | 'state'>,
  env: Record<string, string | undefined> = process.env,
): readonly string[] {
  if (init.bootstrap !== undefined) return init.bootstrap
  if ((init.nodes?.length ?? 0) > 0 || (init.state?.nodes.length ?? 0) > 0) return []
  if (env.VITEST || env.CI) return []
  return DEFAULT_BOOTSTRAP
}

export function createDht(init: DhtInit = {}): Dht {
  return new DhtNode(init)
}

interface Stack {
  family: 4 | 6
  socket: DhtSocket
  table: RoutingTable
}

interface Answer {
  id: Uint8Array
  values: BencodeDict
}

class DhtNode extends EventEmitter<DhtEvents> implements Dht {
  private id: Uint8Array
  private readonly pinnedId: boolean
  private readonly init: DhtInit
  private readonly stacks = new Map<4 | 6, Stack>()
  private readonly transactions = new Map<4 | 6, Transactions>()
  private readonly tokens = createTokenIssuer()
  private readonly store: ReturnType<typeof createPeerStore>
  private readonly incomingLimit: ReturnType<typeof createRateLimiter>
  private readonly perNodeSend: ReturnType<typeof createRateLimiter>
  private readonly sendBudget: ReturnType<typeof createTokenBucket>
  private readonly voter = createExternalIpVoter()
  private readonly routers = new Set<string>()
  private readonly lastWarning = new Map<string, number>()
  private readonly counters = {
    queriesReceived: 0,
    queriesAnswered: 0,
    queriesSent: 0,
    responsesReceived: 0,
    malformed: 0,
    rateLimited: 0,
    unmatched: 0,
    sendBudget: 0,
  }
  private maintenance: ReturnType<typeof setInterval> | undefined
  private refreshing = false
  private lastRefreshCheck = 0
  private closed = false
  private started: Promise<void> | undefined
  private listening: Promise<void> | undefined
  private external: string | undefined

  constructor(init: DhtInit) {
    super()
    this.init = init
    const given = init.nodeId ?? (init.state ? hexToBytes(init.state.id) : undefined)
    if (given !== undefined && given.length !== ID_LENGTH)
      throw new DhtArgumentError('nodeId', 'must be 20 bytes')
    this.id = given ? Uint8Array.from(given) : randomNodeId()
    this.pinnedId = init.nodeId !== undefined
    for (const router of init.bootstrap ?? []) parseHostPort(router)
    this.store = createPeerStore(init.peerStore)
    this.incomingLimit = createRateLimiter(init.queryRateLimit ?? { rate: 5, burst: 25 })
    this.perNodeSend = createRateLimiter(init.perNodeSendLimit ?? { rate: 3, burst: 15 })
    this.sendBudget = createTokenBucket(init.sendBudget ?? { rate: 500, burst: 250 })
  }

  get nodeId(): Uint8Array {
    return this.id
  }

  get externalIp(): string | undefined {
    return this.external
  }

  start(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.started ??= this.run(options.signal)
    return this.started
  }

  listen(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.listening ??= this.bindAll(options.signal)
    return this.listening
  }

  private async run(signal: AbortSignal | undefined): Promise<void> {
    await this.listen({ ...(signal ? { signal } : {}) })
    await this.bootstrap(signal)
  }

  private async bindAll(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted()
    if (this.closed) throw new DhtClosedError()
    const port = this.init.port ?? 6881
    if (this.init.socket) this.adopt(4, this.init.socket)
    else await this.bind(4, this.init.host ?? '0.0.0.0', port)
    if (this.init.host6 !== undefined) {
      await this.bind(6, this.init.host6, this.init.port6 ?? this.address(4)?.port ?? port)
    }
    this.maintenance = setInterval(() => this.maintain(), MAINTENANCE_MS)
    this.maintenance.unref()
  }

  private async bind(family: 4 | 6, host: string, port: number): Promise<void> {
    const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 })
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        socket.close()
        reject(new DhtBindError(host, port, error))
      }
      socket.once('error', onError)
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', onError)
        resolve()
      })
    })
    if (this.closed) {
      socket.close()
      throw new DhtClosedError()
    }
    this.adopt(family, socket)
  }

  private adopt(family: 4 | 6, socket: DhtSocket): void {
    socket.on('error', (error) => this.warn({ type: 'socket-error', error }))
    socket.on('message', (packet, remote) => this.receive(family, packet, remote))
    this.transactions.set(family, createTransactions())
    this.stacks.set(family, {
      family,
      socket,
      table: createRoutingTable({ id: this.id, restrictIps: this.init.restrictRoutingIps ?? true }),
    })
  }

  address(family: 4 | 6 = 4): PeerAddress | undefined {
    const stack = this.stacks.get(family)
    if (!stack || this.closed) return undefined
    const bound = stack.socket.address()
    return { host: bound.address, port: bound.port }
  }

  // Bootstrap in order: saved nodes, then given nodes, then routers; a later group is asked only when
  // the earlier ones left the table short of one full bucket.
  private async bootstrap(signal: AbortSignal | undefined): Promise<void> {
    const saved: LookupContact[] = (this.init.state?.nodes ?? []).map((node) => ({
      id: hexToBytes(node.id),
      host: node.host,
      port: node.port,
    }))
    const given = await this.resolveAll((this.init.nodes ?? []).map((node) => ({ ...node })))
    const routerAddresses = await this.resolveAll(bootstrapRouters(this.init).map(parseHostPort))
    for (const router of routerAddresses) this.routers.add(`${router.host}|${router.port}`)
    const groups = [saved, given, routerAddresses].filter((group) => group.length > 0)
    let tried = 0
    for (const group of groups) {
      tried += group.length
      await Promise.all(
        [...this.stacks.values()].map((stack) => {
          const seeds = group.filter((contact) => isIP(contact.host) === stack.family)
          if (seeds.length === 0) return undefined
          return this.lookup(stack, this.id, 'find_node', seeds, signal).catch((error: unknown) => {
            if (signal?.aborted) throw error
          })
        }),
      )
      if (this.tableSize() >= K) break
    }
    // The self-lookup fills the buckets near our id; a lookup into each of the three farthest fills those.
    if (this.tableSize() > 0) {
      await Promise.all(
        [...this.stacks.values()].flatMap((stack) =>
          [0, 1, 2].map((prefix) =>
            this.lookup(stack, randomIdWithPrefix(this.id, prefix), 'find_node', [], signal).catch(
              (error: unknown) => {
                if (signal?.aborted) throw error
              },
            ),
          ),
        ),
      )
    }
    if (tried > 0 && this.tableSize() === 0) this.warn({ type: 'bootstrap-failed', tried })
    if (!this.closed) this.emit('ready', { nodes: this.tableSize() })
  }

  private async resolveAll(addresses: { host: string; port: number }[]): Promise<LookupContact[]> {
    const resolved = await Promise.all(
      addresses.map(async ({ host, port }): Promise<LookupContact[]> => {
        const canonical = canonicalIp(host)
        if (canonical) return [{ host: canonical, port }]
        try {
          const found = await dnsLookup(host, { all: true })
          return found.flatMap((entry) => {
            const ip = canonicalIp(entry.address)
            return ip ? [{ host: ip, port }] : []
          })
        } catch (error) {
          this.warn({ type: 'bootstrap-resolve-failed', host, error: error as Error })
          return []
        }
      }),
    )
    return resolved.flat()
  }

  private tableSize(): number {
    let size = 0
    for (const stack of this.stacks.values()) size += stack.table.size
    return size
  }

  // --- incoming ---

  private receive(family: 4 | 6, packet: Buffer, remote: RemoteInfo): void {
    try {
      const host = canonicalIp(remote.address)
      if (!host || remote.port === 0) return
      const message = decodeKrpc(packet)
      if (message.y === 'r' || message.y === 'e') {
        this.counters.responsesReceived++
        if (!this.transactions.get(family)?.settle(host, remote.port, message)) this.counters.unmatched++
        return
      }
      if (this.init.readOnly) return
      if (!this.incomingLimit.take(host)) {
        this.counters.rateLimited++
        this.warn({ type: 'rate-limited', host })
        return
      }
      if (message.y === 'invalid') {
        this.counters.malformed++
        this.warn({ type: 'malformed-packet', from: { host, port: remote.port }, reason: message.reason })
        if (message.t)
          this.send(family, host, remote.port, encodeError(message.t, KRPC_ERROR.protocol, message.reason))
        return
      }
      this.counters.queriesReceived++
      this.send(family, host, remote.port, this.answer(family, host, remote.port, message))
    } catch (error) {
      // Nothing a datagram holds may take the socket down; a failure here is a bug, reported, not thrown.
      this.counters.malformed++
      this.warn({
        type: 'malformed-packet',
        from: { host: remote.address, port: remote.port },
        reason: `internal error: ${(error as Error).message}`,
      })
    }
  }

  /** The packet that answers `query`: a response, or a KRPC error. */
  private answer(
    family: 4 | 6,
    host: string,
    port: number,
    query: Extract<KrpcMessage, { y: 'q' }>,
  ): Uint8Array {
    const stack = this.stacks.get(family)!
    const { t, args } = query
    const fail = (code: number, message: string): Uint8Array => {
      this.counters.malformed++
      return encodeError(t, code, message)
    }
    const id = bytesField(args, 'id', { length: ID_LENGTH })
    if (!id) return fail(KRPC_ERROR.protocol, 'missing id')
    if (!query.readOnly) {
      const added = stack.table.add(
        { id, host, port },
        { responded: false, verified: isSecureNodeId(id, host) },
      )
      if (added === 'added') this.emit('node-added', { id: Uint8Array.from(id), host, port })
    }
    const ipBytes = ipToBytes(host)!
    const reply = (values: Record<string, Uint8Array | number | Uint8Array[] | undefined>): Uint8Array => {
      this.counters.queriesAnswered++
      return encodeResponse(
        t,
        { id: this.id, ...values },
        { ip: compactAddress(ipBytes, port), version: VERSION },
      )
    }
    switch (query.method) {
      case 'ping':
        return reply({})
      case 'find_node': {
        const target = bytesField(args, 'target', { length: ID_LENGTH })
        if (!target) return fail(KRPC_ERROR.protocol, 'missing target')
        return reply(this.closestNodes(family, target, wantField(args)))
      }
      case 'get_peers': {
        const infoHash = bytesField(args, 'info_hash', { length: ID_LENGTH })
        if (!infoHash) return fail(KRPC_ERROR.protocol, 'missing info_hash')
        const key = bytesToKey(infoHash)
        const peers = this.store.get(key, family, family === 4 ? MAX_VALUES_V4 : MAX_VALUES_V6)
        const scrape = intField(args, 'scrape') === 1 ? this.store.scrape(key) : undefined
        return reply({
          token: this.tokens.issue(host),
          values:
            peers.length > 0
              ? peers.map((peer) => compactAddress(ipToBytes(peer.host)!, peer.port))
              : undefined,
          BFsd: scrape?.seeds,
          BFpe: scrape?.peers,
          ...this.closestNodes(family, infoHash, wantField(args)),
        })
      }
      case 'announce_peer': {
        const infoHash = bytesField(args, 'info_hash', { length: ID_LENGTH })
        const token = bytesField(args, 'token', { max: MAX_TOKEN_BYTES })
        const implied = intField(args, 'implied_port') === 1
        const peerPort = implied ? port : intField(args, 'port')
        if (!infoHash) return fail(KRPC_ERROR.protocol, 'missing info_hash')
        if (peerPort === undefined || peerPort < 1 || peerPort > 65535)
          return fail(KRPC_ERROR.protocol, 'bad port')
        if (!token || !this.tokens.verify(host, token)) return fail(KRPC_ERROR.protocol, 'bad token')
        this.store.add(bytesToKey(infoHash), { host, port: peerPort }, intField(args, 'seed') === 1)
        return reply({})
      }
      case 'sample_infohashes': {
        const target = bytesField(args, 'target', { length: ID_LENGTH })
        if (!target) return fail(KRPC_ERROR.protocol, 'missing target')
        const samples = this.store.sampleInfoHashes(MAX_SAMPLES)
        const joined = new Uint8Array(samples.length * ID_LENGTH)
        for (const [i, key] of samples.entries()) joined.set(keyToBytes(key), i * ID_LENGTH)
        return reply({
          interval: SAMPLE_INTERVAL_S,
          num: this.store.infoHashCount,
          samples: joined,
          ...this.closestNodes(family, target, wantField(args)),
        })
      }
      default:
        return fail(KRPC_ERROR.methodUnknown, 'Method Unknown')
    }
  }

  /** `nodes` and/or `nodes6` for a target: the socket's own family unless `want` says otherwise (BEP 32). */
  private closestNodes(
    family: 4 | 6,
    target: Uint8Array,
    want: { v4: boolean; v6: boolean } | undefined,
  ): { nodes?: Uint8Array; nodes6?: Uint8Array } {
    const wanted = want && (want.v4 || want.v6) ? want : { v4: family === 4, v6: family === 6 }
    const out: { nodes?: Uint8Array; nodes6?: Uint8Array } = {}
    const v4 = this.stacks.get(4)
    const v6 = this.stacks.get(6)
    if (wanted.v4 && v4) out.nodes = encodeNodes(v4.table.closest(target, K), 4)
    if (wanted.v6 && v6) out.nodes6 = encodeNodes(v6.table.closest(target, K), 6)
    return out
  }

  // --- outgoing ---

  private send(family: 4 | 6, host: string, port: number, packet: Uint8Array): boolean {
    const stack = this.stacks.get(family)
    if (!stack || this.closed) return false
    if (!this.perNodeSend.take(host)) return false
    if (!this.sendBudget.take()) {
      this.counters.sendBudget++
      this.warn({ type: 'send-budget-exhausted', dropped: this.counters.sendBudget })
      return false
    }
    stack.socket.send(packet, port, host, (error) => {
      if (error) this.warn({ type: 'send-failed', to: { host, port }, error })
    })
    return true
  }

  /** Sends one query and resolves with the answer's `r` dictionary and node id; rejects on silence or `e`. */
  private async query(
    family: 4 | 6,
    host: string,
    port: number,
    method: string,
    args: Record<string, Uint8Array | number | Uint8Array[] | undefined>,
  ): Promise<Answer> {
    if (this.closed) throw new DhtClosedError()
    const stack = this.stacks.get(family)
    const transactions = this.transactions.get(family)
    if (!stack || !transactions) throw new DhtArgumentError('address', `no IPv${family} socket for ${host}`)
    const opened = transactions.open(host, port, method, this.init.queryTimeoutMs ?? 5_000)
    if (!opened) throw new DhtQueryTimeoutError(method, `${host}:${port}`, 'send-budget')
    const want = this.stacks.size > 1 ? [Uint8Array.of(0x6e, 0x34), Uint8Array.of(0x6e, 0x36)] : undefined
    const packet = encodeQuery(
      opened.t,
      method,
      { id: this.id, ...args, want: method === 'find_node' || method === 'get_peers' ? want : undefined },
      { readOnly: this.init.readOnly ?? false, version: VERSION },
    )
    if (!this.send(family, host, port, packet)) {
      // Our own budget refused it: the node is not to blame, so no failure goes to its table entry.
      const refused = new DhtQueryTimeoutError(method, `${host}:${port}`, 'send-budget')
      transactions.fail(host, port, opened.t, refused)
      await opened.answer.catch(() => {})
      throw refused
    }
    this.counters.queriesSent++
    let answer: Awaited<typeof opened.answer>
    try {
      answer = await opened.answer
    } catch (error) {
      stack.table.failed(host, port)
      throw error
    }
    if (answer.y === 'e') throw new DhtRemoteError(answer.code, answer.message)
    const id = bytesField(answer.values, 'id', { length: ID_LENGTH })
    if (!id) throw new DhtRemoteError(KRPC_ERROR.protocol, 'answer without a valid id')
    if (!this.routers.has(`${host}|${port}`)) {
      const added = stack.table.add(
        { id, host, port },
        { responded: true, verified: isSecureNodeId(id, host) },
      )
      if (added === 'added') this.emit('node-added', { id: Uint8Array.from(id), host, port })
    }
    if (answer.ip && family === 4) this.learnExternalIp(answer.ip.host, host)
    return { id, values: answer.values }
  }

  private learnExternalIp(reported: string, voter: string): void {
    if (isBep42Exempt(reported)) return
    const decided = this.voter.vote(reported, voter)
    if (!decided) return
    this.external = decided
    if (this.pinnedId || isSecureNodeId(this.id, decided)) return
    this.id = secureNodeId(decided)
    for (const stack of this.stacks.values()) stack.table.rebase(this.id)
    this.warn({ type: 'node-id-changed', externalIp: decided, id: this.id })
  }

  // --- lookups ---

  private lookup(
    stack: Stack,
    target: Uint8Array,
    method: 'find_node' | 'get_peers',
    extraSeeds: readonly LookupContact[],
    signal: AbortSignal | undefined,
    onValues?: (peers: PeerAddress[]) => void,
  ): Promise<LookupOutcome> {
    const seeds: LookupContact[] = [...extraSeeds, ...stack.table.closest(target, K * 2)]
    const argName = method === 'find_node' ? 'target' : 'info_hash'
    return runLookup({
      target,
      seeds,
      alpha: this.init.alpha ?? 3,
      softTimeoutMs: this.init.softTimeoutMs ?? 1000,
      ...(signal ? { signal } : {}),
      query: async (contact): Promise<LookupReply> => {
        const answer = await this.query(stack.family, contact.host, contact.port, method, {
          [argName]: target,
        })
        const nodesBytes = bytesField(answer.values, stack.family === 4 ? 'nodes' : 'nodes6')
        const nodes = (nodesBytes && decodeNodes(nodesBytes, stack.family, MAX_NODES_READ)) || []
        const token = bytesField(answer.values, 'token', { max: MAX_TOKEN_BYTES })
        if (onValues) onValues(readValues(answer.values, stack.family))
        return { id: answer.id, nodes, ...(token ? { token } : {}) }
      },
    })
  }

  private async peersLookup(
    infoHash: Uint8Array,
    options: DhtLookupOptions,
  ): Promise<{ peers: PeerAddress[]; stats: LookupStats; outcomes: [Stack, LookupOutcome][] }> {
    if (infoHash.length !== ID_LENGTH) throw new DhtArgumentError('infoHash', 'must be 20 bytes')
    options.signal?.throwIfAborted()
    await this.start()
    const found = new Map<string, PeerAddress>()
    const hash = Uint8Array.from(infoHash)
    const onValues = (peers: PeerAddress[]) => {
      for (const peer of peers) {
        const key = `${peer.host}|${peer.port}`
        if (found.has(key)) continue
        found.set(key, peer)
        options.onPeer?.(peer)
        this.emit('peer', peer, hash)
      }
    }
    const outcomes = await Promise.all(
      [...this.stacks.values()].map(
        async (stack) =>
          [stack, await this.lookup(stack, hash, 'get_peers', [], options.signal, onValues)] as [
            Stack,
            LookupOutcome,
          ],
      ),
    )
    const stats = { queried: 0, answered: 0 }
    for (const [, outcome] of outcomes) {
      stats.queried += outcome.queried
      stats.answered += outcome.answered
    }
    return { peers: [...found.values()], stats, outcomes }
  }

  async getPeers(infoHash: Uint8Array, options: DhtLookupOptions = {}): Promise<DhtGetPeersResult> {
    const { peers, stats } = await this.peersLookup(infoHash, options)
    return { peers, stats }
  }

  async announce(infoHash: Uint8Array, options: DhtAnnounceOptions = {}): Promise<DhtAnnounceResult> {
    const implied = options.impliedPort ?? false
    const port = options.port ?? this.address(4)?.port ?? 0
    if (!implied && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw new DhtArgumentError('port', `${options.port} is not a TCP port`)
    }
    const { peers, stats, outcomes } = await this.peersLookup(infoHash, options)
    options.signal?.throwIfAborted()
    const sends = outcomes.flatMap(([stack, outcome]) =>
      outcome.closest
        .filter((entry) => entry.token)
        .map((entry) =>
          this.query(stack.family, entry.node.host, entry.node.port, 'announce_peer', {
            info_hash: infoHash,
            port,
            token: entry.token,
            implied_port: implied ? 1 : undefined,
            seed: options.seed ? 1 : undefined,
          }).then(
            () => 1,
            () => 0,
          ),
        ),
    )
    const accepted = (await Promise.all(sends)).reduce<number>((sum, n) => sum + n, 0)
    return { peers, stats, announcedTo: accepted }
  }

  async findNode(target: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<DhtFindNodeResult> {
    if (target.length !== ID_LENGTH) throw new DhtArgumentError('target', 'must be 20 bytes')
    options.signal?.throwIfAborted()
    await this.start()
    const results = await Promise.all(
      [...this.stacks.values()].map((stack) => this.lookup(stack, target, 'find_node', [], options.signal)),
    )
    const stats = { queried: 0, answered: 0 }
    const nodes: DhtNodeInfo[] = []
    for (const outcome of results) {
      stats.queried += outcome.queried
      stats.answered += outcome.answered
      nodes.push(...outcome.closest.map((entry) => entry.node))
    }
    return { nodes, stats }
  }

  async ping(address: PeerAddress, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted()
    const host = canonicalIp(address.host)
    if (!host) throw new DhtArgumentError('address', `${address.host} is not an IP address`)
    const family = isIP(host) === 6 ? 6 : 4
    const pending = this.query(family, host, address.port, 'ping', {})
    if (!options.signal) return (await pending).id
    const signal = options.signal
    let onAbort: (() => void) | undefined
    try {
      return await Promise.race([
        pending.then((answer) => answer.id),
        new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason)
          signal.addEventListener('abort', onAbort, { once: true })
        }),
      ])
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort)
    }
  }

  addNode(address: PeerAddress): void {
    const host = canonicalIp(address.host)
    if (!host || this.closed || address.port < 1 || address.port > 65535) return
    const stack = this.stacks.get(isIP(host) === 6 ? 6 : 4)
    if (!stack || stack.table.find(host, address.port)) return
    this.query(stack.family, host, address.port, 'ping', {}).catch(() => {})
  }

  // --- maintenance ---

  private maintain(): void {
    if (this.closed) return
    for (const stack of this.stacks.values()) {
      // One ping per tick and family: questionable nodes prove themselves or go bad, slowly.
      const stale = stack.table.mostQuestionable()
      if (stale) this.query(stack.family, stale.host, stale.port, 'ping', {}).catch(() => {})
    }
    const refreshMs = this.init.refreshIntervalMs ?? GOOD_MS
    const now = Date.now()
    if (this.refreshing || now - this.lastRefreshCheck < Math.min(refreshMs, 60_000)) return
    this.lastRefreshCheck = now
    this.refreshing = true
    const work = [...this.stacks.values()].map(async (stack) => {
      for (const prefix of stack.table.staleBuckets(refreshMs)) {
        if (this.closed) return
        stack.table.touchBucket(prefix)
        await this.lookup(stack, randomIdWithPrefix(this.id, prefix), 'find_node', [], undefined).catch(
          () => {},
        )
      }
    })
    Promise.all(work).finally(() => {
      this.refreshing = false
    })
  }

  nodes(family: 4 | 6 = 4): DhtNodeInfo[] {
    return (this.stacks.get(family)?.table.all() ?? []).map((node) => ({
      id: node.id,
      host: node.host,
      port: node.port,
    }))
  }

  stats(): DhtStats {
    const c = this.counters
    return {
      nodes: { v4: this.stacks.get(4)?.table.size ?? 0, v6: this.stacks.get(6)?.table.size ?? 0 },
      infoHashesStored: this.store.infoHashCount,
      peersStored: this.store.peerCount,
      queriesReceived: c.queriesReceived,
      queriesAnswered: c.queriesAnswered,
      queriesSent: c.queriesSent,
      responsesReceived: c.responsesReceived,
      dropped: {
        malformed: c.malformed,
        rateLimited: c.rateLimited,
        unmatched: c.unmatched,
        sendBudget: c.sendBudget,
      },
    }
  }

  state(): DhtState {
    const nodes: DhtState['nodes'] = []
    for (const stack of this.stacks.values()) {
      for (const node of stack.table.all()) {
        if (stack.table.state(node) === 'good')
          nodes.push({ id: idToHex(node.id), host: node.host, port: node.port })
      }
    }
    return { id: idToHex(this.id), nodes }
  }

  save(path: string): Promise<void> {
    return saveDhtState(path, this.state())
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.maintenance) clearInterval(this.maintenance)
    for (const transactions of this.transactions.values()) transactions.closeAll()
    await Promise.all(
      [...this.stacks.values()].map(
        (stack) => new Promise<void>((resolve) => stack.socket.close(() => resolve())),
      ),
    )
  }

  /** Emits a warning; the per-packet kinds at most once a second each, so a flood cannot flood the listener too. */
  private warn(warning: DhtWarning): void {
    if (
      warning.type === 'malformed-packet' ||
      warning.type === 'rate-limited' ||
      warning.type === 'send-budget-exhausted'
    ) {
      const now = Date.now()
      if (now - (this.lastWarning.get(warning.type) ?? 0) < 1000) return
      this.lastWarning.set(warning.type, now)
    }
    this.emit('warning', warning)
  }
}

/** Peers in a `values` list: 6-byte (IPv4) or 18-byte (IPv6) compact entries of the lookup's family. */
function readValues(values: BencodeDict, family: 4 | 6): PeerAddress[] {
  const list = values.get('values')
  if (!Array.isArray(list)) return []
  const size = family === 4 ? 6 : 18
  const peers: PeerAddress[] = []
  for (const item of list.slice(0, MAX_VALUES_READ)) {
    if (!(item instanceof Uint8Array) || item.length !== size) continue
    const port = (item[size - 2]! << 8) | item[size - 1]!
    if (port === 0) continue
    peers.push({ host: ipFromBytes(item, 0, family), port })
  }
  return peers
}

/** `host:port` or `[v6]:port`; the host may be a name. */
function parseHostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':')
  const port = Number(text.slice(at + 1))
  const host = text.slice(0, at).replace(/^\[|\]$/g, '')
  if (at <= 0 || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DhtArgumentError('bootstrap', `${JSON.stringify(text)} is not host:port`)
  }
  return { host, port }
}

function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

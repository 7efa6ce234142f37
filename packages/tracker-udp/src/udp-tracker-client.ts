// A BEP 15 client: one lazily created socket per address family, a transaction table that routes
// each answer to its request, cached connection ids, and the 15·2^n s retransmission schedule.
import { randomBytes } from 'node:crypto'
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { lookup } from 'node:dns/promises'
import { setMaxListeners } from 'node:events'
import { isIP } from 'node:net'
import type { AddressFamily, PeerAddress } from '@bt/peer-address'
import { DEFAULT_RETRANSMIT_BASE_MS, MAX_RETRANSMITS, retransmitTimeoutMs } from './backoff.js'
import {
  UdpTrackerClosedError,
  UdpTrackerErrorResponse,
  UdpTrackerNetworkError,
  UdpTrackerProtocolError,
  UdpTrackerTimeoutError,
} from './errors.js'
import {
  type AnnounceFields,
  EVENT_IDS,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  MAX_SCRAPE_HASHES,
  type ParsedResponse,
  parseResponse,
} from './packets.js'
import { encodeUrlDataOptions, parseUdpTrackerUrl } from './tracker-url.js'

export interface UdpTrackerClientInit {
  /** First wait for an answer before resending; doubles on every retransmission (default 15 000 ms). */
  retransmitBaseMs?: number
  /** Retransmissions after the first send before a request times out, 0–8 (default 8, as in BEP 15). */
  maxRetransmits?: number
  /** How long a tracker's connection id is reused (default 60 000 ms, the BEP 15 limit). */
  connectionIdTtlMs?: number
}

export interface UdpTrackerRequestOptions {
  signal?: AbortSignal
  /** Overall deadline for the call, connect included; without it only the retransmission schedule ends it. */
  timeoutMs?: number
}

export type AnnounceEvent = 'started' | 'completed' | 'stopped'

export interface AnnounceParams {
  infoHash: Uint8Array
  peerId: Uint8Array
  /** The port we accept peer connections on. */
  port: number
  uploaded: bigint | number
  downloaded: bigint | number
  left: bigint | number
  event?: AnnounceEvent
  /** Peers wanted; default -1 lets the tracker choose. */
  numwant?: number
  /** Identifies us across IP changes; default: one random key per client. */
  key?: number
  /** IPv4 address to announce instead of the datagram's source address. */
  ip?: string
}

export interface AnnounceResponse {
  /** Seconds the tracker wants between announces. */
  interval: number
  leechers: number
  seeders: number
  /** IPv4 peers from an IPv4 tracker, IPv6 peers from an IPv6 tracker (BEP 15). */
  peers: PeerAddress[]
}

export interface ScrapeResult {
  infoHash: Uint8Array
  seeders: number
  /** Times the torrent was downloaded completely. */
  completed: number
  leechers: number
}

export interface UdpTrackerClient {
  announce(url: string, params: AnnounceParams, options?: UdpTrackerRequestOptions): Promise<AnnounceResponse>
  /** Results come back in the order of `infoHashes`; more than 74 are split over several requests. */
  scrape(
    url: string,
    infoHashes: readonly Uint8Array[],
    options?: UdpTrackerRequestOptions,
  ): Promise<ScrapeResult[]>
  /** Closes the sockets; pending and later calls reject with `UdpTrackerClosedError`. */
  close(): Promise<void>
}

export function createUdpTrackerClient(init: UdpTrackerClientInit = {}): UdpTrackerClient {
  return new UdpTrackerClientImpl(init)
}

/** A tracker after name resolution: where datagrams go and where answers must come from. */
interface Target {
  url: string
  address: string
  port: number
  family: AddressFamily
  /** Connection ids are per tracker endpoint, shared by every URL that resolves to it. */
  key: string
  urlData: Uint8Array
}

/** One announce or scrape call: its abort signal and how many datagrams were sent on its behalf. */
interface Call {
  url: string
  signal: AbortSignal
  sent: number
}

interface Waiter {
  target: Target
  deliver(datagram: Buffer): void
  fail(error: unknown): void
}

/** A connect in flight, shared by every call that needs a connection id for the same tracker. */
interface SharedConnect {
  controller: AbortController
  calls: Set<Call>
  promise: Promise<Uint8Array>
}

const TIMED_OUT = Symbol('timed out')

const MAX_UINT64 = 2n ** 64n - 1n

class UdpTrackerClientImpl implements UdpTrackerClient {
  readonly #retransmitBaseMs: number
  readonly #maxRetransmits: number
  readonly #connectionIdTtlMs: number
  readonly #key = randomBytes(4).readUInt32BE(0)
  readonly #sockets = new Map<AddressFamily, Socket>()
  /** Keyed by family and transaction id; a key stays reserved across retransmissions. */
  readonly #waiters = new Map<string, Waiter>()
  readonly #reservedTransactions = new Set<string>()
  readonly #connectionIds = new Map<string, { id: Uint8Array; expiresAt: number }>()
  readonly #connecting = new Map<string, SharedConnect>()
  readonly #calls = new Set<{ url: string; controller: AbortController }>()
  #closed = false

  constructor(init: UdpTrackerClientInit) {
    this.#retransmitBaseMs = init.retransmitBaseMs ?? DEFAULT_RETRANSMIT_BASE_MS
    this.#maxRetransmits = init.maxRetransmits ?? MAX_RETRANSMITS
    this.#connectionIdTtlMs = init.connectionIdTtlMs ?? 60_000
    if (!(this.#retransmitBaseMs > 0) || !Number.isFinite(this.#retransmitBaseMs)) {
      throw new RangeError(
        `tracker-udp: retransmitBaseMs must be a positive number, got ${init.retransmitBaseMs}`,
      )
    }
    if (
      !Number.isInteger(this.#maxRetransmits) ||
      this.#maxRetransmits < 0 ||
      this.#maxRetransmits > MAX_RETRANSMITS
    ) {
      throw new RangeError(
        `tracker-udp: maxRetransmits must be an integer in 0–8, got ${init.maxRetransmits}`,
      )
    }
    if (!(this.#connectionIdTtlMs >= 0)) {
      throw new RangeError(`tracker-udp: connectionIdTtlMs must be ≥ 0, got ${init.connectionIdTtlMs}`)
    }
  }

  announce(
    url: string,
    params: AnnounceParams,
    options: UdpTrackerRequestOptions = {},
  ): Promise<AnnounceResponse> {
    return this.#call(url, options, async (call) => {
      const fields = announceFields(params, this.#key)
      const target = await this.#resolve(url, call)
      const response = await this.#request(target, call, 'announce', (connectionId, transactionId) =>
        encodeAnnounceRequest(connectionId, transactionId, fields, target.urlData),
      )
      return {
        interval: response.interval,
        leechers: response.leechers,
        seeders: response.seeders,
        peers: response.peers,
      }
    })
  }

  scrape(
    url: string,
    infoHashes: readonly Uint8Array[],
    options: UdpTrackerRequestOptions = {},
  ): Promise<ScrapeResult[]> {
    return this.#call(url, options, async (call) => {
      infoHashes.forEach((hash, i) => {
        checkBytes20(hash, `infoHashes[${i}]`)
      })
      const target = await this.#resolve(url, call)
      const chunks: Uint8Array[][] = []
      for (let i = 0; i < infoHashes.length; i += MAX_SCRAPE_HASHES) {
        chunks.push(infoHashes.slice(i, i + MAX_SCRAPE_HASHES))
      }
      const answers = await Promise.all(
        chunks.map(async (chunk) => {
          const response = await this.#request(target, call, 'scrape', (connectionId, transactionId) =>
            encodeScrapeRequest(connectionId, transactionId, chunk),
          )
          if (response.entries.length < chunk.length) {
            throw new UdpTrackerProtocolError(
              url,
              `scrape response has ${response.entries.length} entries for ${chunk.length} info hashes`,
            )
          }
          return chunk.map((hash, i) => ({ infoHash: Uint8Array.from(hash), ...response.entries[i]! }))
        }),
      )
      return answers.flat()
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const { url, controller } of this.#calls) controller.abort(new UdpTrackerClosedError(url))
    this.#connectionIds.clear()
    const sockets = [...this.#sockets.values()]
    this.#sockets.clear()
    await Promise.all(sockets.map(closeSocket))
  }

  /** Runs one public call under a signal that aborts on the caller's signal, its timeout, or close(). */
  async #call<T>(
    url: string,
    options: UdpTrackerRequestOptions,
    body: (call: Call) => Promise<T>,
  ): Promise<T> {
    options.signal?.throwIfAborted()
    if (this.#closed) throw new UdpTrackerClosedError(url)
    const { timeoutMs } = options
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      throw new RangeError(`tracker-udp: timeoutMs must be ≥ 0, got ${timeoutMs}`)
    }
    const controller = new AbortController()
    // Scrape chunks and a shared connect each listen on the call's signal.
    setMaxListeners(0, controller.signal)
    const call: Call = { url, signal: controller.signal, sent: 0 }
    const entry = { url, controller }
    this.#calls.add(entry)
    const onAbort = () => controller.abort(options.signal?.reason)
    options.signal?.addEventListener('abort', onAbort, { once: true })
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => controller.abort(new UdpTrackerTimeoutError(url, { attempts: call.sent, timeoutMs })),
            timeoutMs,
          )
    try {
      return await body(call)
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      this.#calls.delete(entry)
      // Stops sibling requests (other scrape chunks) and releases a shared connect we were waiting on.
      controller.abort()
    }
  }

  async #resolve(url: string, call: Call): Promise<Target> {
    const { host, port, urlData } = parseUdpTrackerUrl(url)
    let address = host
    let family = isIP(host)
    if (family === 0) {
      try {
        const found = await untilAborted(lookup(host), call.signal)
        address = found.address
        family = found.family
      } catch (error) {
        if (call.signal.aborted) throw call.signal.reason
        throw new UdpTrackerNetworkError(url, 'lookup', error)
      }
    }
    const ipFamily: AddressFamily = family === 6 ? 6 : 4
    const key = ipFamily === 6 ? `[${address}]:${port}` : `${address}:${port}`
    return { url, address, port, family: ipFamily, key, urlData: encodeUrlDataOptions(urlData) }
  }

  /** Sends a request (connecting first when needed) until it is answered or the schedule runs out. */
  async #request<A extends 'announce' | 'scrape'>(
    target: Target,
    call: Call,
    expected: A,
    encode: (connectionId: Uint8Array, transactionId: number) => Uint8Array,
  ): Promise<Extract<ParsedResponse, { action: A }>> {
    const transactionId = this.#reserveTransaction(target.family)
    try {
      for (let attempt = 0; ; attempt++) {
        // Checked before every send: a retransmission after the id expired needs a fresh connect.
        const connectionId = await this.#connectionId(target, call)
        call.sent++
        const packet = encode(connectionId, transactionId)
        const wait = retransmitTimeoutMs(attempt, this.#retransmitBaseMs)
        const datagram = await this.#exchange(target, transactionId, packet, wait, call.signal)
        if (datagram !== TIMED_OUT) return this.#interpret(target, datagram, expected)
        if (attempt >= this.#maxRetransmits)
          throw new UdpTrackerTimeoutError(target.url, { attempts: attempt + 1 })
      }
    } finally {
      this.#reservedTransactions.delete(transactionKey(target.family, transactionId))
    }
  }

  #connectionId(target: Target, call: Call): Promise<Uint8Array> {
    const cached = this.#connectionIds.get(target.key)
    if (cached && cached.expiresAt > performance.now()) return Promise.resolve(cached.id)
    const pending = this.#connecting.get(target.key)
    // A connect abandoned by all its callers may still be unwinding: start a fresh one.
    const shared = pending && !pending.controller.signal.aborted ? pending : this.#startConnect(target)
    return this.#join(shared, call)
  }

  #startConnect(target: Target): SharedConnect {
    const controller = new AbortController()
    const calls = new Set<Call>()
    let shared: SharedConnect | undefined
    const run = async (): Promise<Uint8Array> => {
      const transactionId = this.#reserveTransaction(target.family)
      try {
        for (let attempt = 0; ; attempt++) {
          for (const call of calls) call.sent++
          const wait = retransmitTimeoutMs(attempt, this.#retransmitBaseMs)
          const packet = encodeConnectRequest(transactionId)
          const datagram = await this.#exchange(target, transactionId, packet, wait, controller.signal)
          if (datagram !== TIMED_OUT) {
            const { connectionId } = this.#interpret(target, datagram, 'connect')
            const expiresAt = performance.now() + this.#connectionIdTtlMs
            this.#connectionIds.set(target.key, { id: connectionId, expiresAt })
            return connectionId
          }
          if (attempt >= this.#maxRetransmits) {
            throw new UdpTrackerTimeoutError(target.url, { attempts: attempt + 1 })
          }
        }
      } finally {
        this.#reservedTransactions.delete(transactionKey(target.family, transactionId))
        if (this.#connecting.get(target.key) === shared) this.#connecting.delete(target.key)
      }
    }
    // The loop starts on a later microtask, once the first caller has joined and is counted.
    const promise = Promise.resolve().then(run)
    // Callers that left already got their own rejection; nobody else awaits this one.
    promise.catch(() => {})
    shared = { controller, calls, promise }
    this.#connecting.set(target.key, shared)
    return shared
  }

  /** Waits for a shared connect; the last caller to give up cancels it. */
  #join(shared: SharedConnect, call: Call): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      if (call.signal.aborted) {
        reject(call.signal.reason)
        return
      }
      const leave = () => {
        call.signal.removeEventListener('abort', onAbort)
        shared.calls.delete(call)
      }
      const onAbort = () => {
        leave()
        if (shared.calls.size === 0) shared.controller.abort(call.signal.reason)
        reject(call.signal.reason)
      }
      call.signal.addEventListener('abort', onAbort, { once: true })
      shared.calls.add(call)
      shared.promise.then(
        (id) => {
          leave()
          resolve(id)
        },
        (error: unknown) => {
          leave()
          reject(error)
        },
      )
    })
  }

  /** Sends one datagram and waits `waitMs` for the answer carrying `transactionId`. */
  #exchange(
    target: Target,
    transactionId: number,
    packet: Uint8Array,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<Buffer | typeof TIMED_OUT> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason)
        return
      }
      const key = transactionKey(target.family, transactionId)
      const finish = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        if (this.#waiters.get(key) === waiter) this.#waiters.delete(key)
      }
      const onAbort = () => {
        finish()
        reject(signal.reason)
      }
      // Deliberately ref'd: a pending request keeps the process alive even though the idle socket does not.
      const timer = setTimeout(() => {
        finish()
        resolve(TIMED_OUT)
      }, waitMs)
      const waiter: Waiter = {
        target,
        deliver(datagram) {
          finish()
          resolve(datagram)
        },
        fail(error) {
          finish()
          reject(error)
        },
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waiters.set(key, waiter)
      try {
        this.#socket(target.family).send(packet, target.port, target.address, (error) => {
          if (error && this.#waiters.get(key) === waiter) {
            waiter.fail(new UdpTrackerNetworkError(target.url, 'send', error))
          }
        })
      } catch (error) {
        waiter.fail(new UdpTrackerNetworkError(target.url, 'send', error))
      }
    })
  }

  /** Turns an answer into the expected response or a typed error. */
  #interpret<A extends 'connect' | 'announce' | 'scrape'>(
    target: Target,
    datagram: Uint8Array,
    expected: A,
  ): Extract<ParsedResponse, { action: A }> {
    const parsed = parseResponse(datagram, target.family)
    if (parsed.action === 'error') {
      // A tracker that restarted rejects our cached id with an error: connect afresh next time.
      this.#connectionIds.delete(target.key)
      throw new UdpTrackerErrorResponse(target.url, parsed.message)
    }
    if (parsed.action === 'malformed') throw new UdpTrackerProtocolError(target.url, parsed.reason)
    if (parsed.action !== expected) {
      throw new UdpTrackerProtocolError(target.url, `expected a ${expected} response, got ${parsed.action}`)
    }
    return parsed as Extract<ParsedResponse, { action: A }>
  }

  #reserveTransaction(family: AddressFamily): number {
    for (;;) {
      const transactionId = randomBytes(4).readUInt32BE(0)
      const key = transactionKey(family, transactionId)
      if (!this.#reservedTransactions.has(key)) {
        this.#reservedTransactions.add(key)
        return transactionId
      }
    }
  }

  #socket(family: AddressFamily): Socket {
    const existing = this.#sockets.get(family)
    if (existing) return existing
    const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 })
    // An idle client must not keep the process alive; pending requests hold their own timers.
    socket.unref()
    socket.on('message', (datagram, remote) => this.#onMessage(family, datagram, remote))
    socket.on('error', (error) => this.#onSocketError(family, socket, error))
    this.#sockets.set(family, socket)
    return socket
  }

  /** Routes an answer to its waiter; anything unexpected is dropped here, so this never throws. */
  #onMessage(family: AddressFamily, datagram: Buffer, remote: RemoteInfo): void {
    if (datagram.length < 8) return
    const waiter = this.#waiters.get(transactionKey(family, datagram.readUInt32BE(4)))
    // Only the tracker we asked may answer: anyone else guessing a transaction id is ignored.
    if (!waiter || remote.address !== waiter.target.address || remote.port !== waiter.target.port) return
    waiter.deliver(datagram)
  }

  #onSocketError(family: AddressFamily, socket: Socket, error: Error): void {
    if (this.#sockets.get(family) === socket) this.#sockets.delete(family)
    for (const waiter of [...this.#waiters.values()]) {
      if (waiter.target.family === family)
        waiter.fail(new UdpTrackerNetworkError(waiter.target.url, 'socket', error))
    }
    void closeSocket(socket)
  }
}

function transactionKey(family: AddressFamily, transactionId: number): string {
  return `${family}:${transactionId}`
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve())
    } catch {
      // Already closed.
      resolve()
    }
  })
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function checkBytes20(value: Uint8Array, name: string): void {
  if (!(value instanceof Uint8Array) || value.length !== 20) {
    throw new TypeError(`tracker-udp: ${name} must be a 20-byte Uint8Array`)
  }
}

function uint64(value: bigint | number, name: string): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`tracker-udp: ${name} must be an integer, got ${value}`)
  }
  const big = BigInt(value)
  if (big < 0n || big > MAX_UINT64) throw new RangeError(`tracker-udp: ${name} out of 64-bit range: ${value}`)
  return big
}

function integerIn(value: number, min: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`tracker-udp: ${name} must be an integer in ${min}–${max}, got ${value}`)
  }
  return value
}

function ipv4ToUint32(ip: string): number {
  if (isIP(ip) !== 4)
    throw new RangeError(`tracker-udp: ip must be an IPv4 address, got ${JSON.stringify(ip)}`)
  return ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0)
}

function announceFields(params: AnnounceParams, defaultKey: number): AnnounceFields {
  checkBytes20(params.infoHash, 'infoHash')
  checkBytes20(params.peerId, 'peerId')
  const event = params.event === undefined ? EVENT_IDS.none : eventId(params.event)
  return {
    infoHash: params.infoHash,
    peerId: params.peerId,
    port: integerIn(params.port, 0, 0xffff, 'port'),
    uploaded: uint64(params.uploaded, 'uploaded'),
    downloaded: uint64(params.downloaded, 'downloaded'),
    left: uint64(params.left, 'left'),
    event,
    numwant: integerIn(params.numwant ?? -1, -1, 0x7fffffff, 'numwant'),
    key: integerIn(params.key ?? defaultKey, 0, 0xffffffff, 'key'),
    ip: params.ip === undefined ? 0 : ipv4ToUint32(params.ip),
  }
}

function eventId(event: AnnounceEvent): number {
  switch (event) {
    case 'started':
      return EVENT_IDS.started
    case 'completed':
      return EVENT_IDS.completed
    case 'stopped':
      return EVENT_IDS.stopped
    default:
      throw new RangeError(`tracker-udp: unknown event ${JSON.stringify(event)}`)
  }
}

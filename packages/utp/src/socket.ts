// The uTP socket manager: one UDP socket, many connections. It demultiplexes datagrams by their first
// byte as libtorrent does (uTP: version 1 in the low nibble, type ≤ 4 in the high one; a DHT's
// bencoded messages start with 'd'), routes uTP packets by (address, port, connection id), accepts
// SYNs, and drives every connection's timers from one ticker. Non-uTP datagrams go to whoever shares
// the port (a DHT): through `onDatagram`, or through `datagrams()`, a dgram-like view of the socket.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { lookup } from 'node:dns/promises'
import { EventEmitter } from 'node:events'
import { type AddressInfo, isIP } from 'node:net'
import {
  Connection,
  type ConnectionHost,
  type ConnectionOptions,
  DEFAULT_CONNECTION_OPTIONS,
  microseconds,
  type UtpConnection,
} from './connection.js'
import { UtpArgumentError, UtpBindError, UtpSocketClosedError } from './errors.js'
import {
  createPacket,
  decodePacket,
  EXTENSION_NONE,
  HEADER_SIZE,
  isUtpPacket,
  type Packet,
  ST_RESET,
  ST_SYN,
  writeHeader,
} from './packet.js'

const TICK_MS = 50
/** The largest payload per packet we allow: well under a UDP datagram, as uTP implementations expect. */
export const MAX_PACKET_SIZE = 16 * 1024

export interface UtpSocketInit extends Partial<ConnectionOptions> {
  /** UDP port to bind; 0 (default) picks a free one. Ignored with `socket`. */
  port?: number
  /** Address to bind. Default 0.0.0.0 (or :: for udp6). Ignored with `socket`. */
  host?: string
  type?: 'udp4' | 'udp6'
  /** An already bound dgram socket to share (e.g. a DHT's). We never close it. */
  socket?: Socket
  /**
   * With `socket`: whether we listen to its 'message' events (default true). Set false when the
   * socket's owner reads it and hands us datagrams through `receive()`.
   */
  attach?: boolean
  /** Datagrams that are not uTP (a DHT on the same port). */
  onDatagram?: (datagram: Buffer, remote: RemoteInfo) => void
  /** Accept incoming connections (default true); when false, SYNs are answered with ST_RESET. */
  acceptIncoming?: boolean
  /** The most connections at once; SYNs beyond it are refused. Default 5000. */
  maxConnections?: number
  /** How long `connect` waits for the SYN's ack, ms. Default 8000. */
  connectTimeoutMs?: number
  /** SO_RCVBUF/SO_SNDBUF to ask for (the kernel caps it at net.core.rmem_max/wmem_max). Default 4 MiB. */
  bufferSize?: number
}

export interface UtpConnectOptions {
  signal?: AbortSignal
  /** Overrides the socket's `connectTimeoutMs`. */
  timeoutMs?: number
}

export interface UtpSocketEvents {
  /** An incoming connection, already established (uTP has no third handshake step). */
  connection: [connection: UtpConnection]
  /** A UDP socket error (sends to an unreachable address and the like); the socket stays up. */
  error: [error: Error]
  close: []
}

/** A dgram-like view of the shared socket that sees only the non-uTP datagrams, for a DHT. */
export interface UtpSharedDatagrams {
  send(datagram: Uint8Array, port: number, address: string, callback?: (error: Error | null) => void): void
  address(): AddressInfo
  on(event: 'message', listener: (datagram: Buffer, remote: RemoteInfo) => void): this
  on(event: 'error', listener: (error: Error) => void): this
  off(event: 'message', listener: (datagram: Buffer, remote: RemoteInfo) => void): this
  off(event: 'error', listener: (error: Error) => void): this
  /** Stops delivering datagrams to this view; the UDP socket stays with its owner. */
  close(callback?: () => void): void
}

export interface UtpSocket {
  /** Dials `host:port` over uTP; resolves once the peer acked our SYN. */
  connect(port: number, host: string, options?: UtpConnectOptions): Promise<UtpConnection>
  address(): AddressInfo
  /** Hands one datagram to uTP (when the socket's owner reads it); false when it is not uTP. */
  receive(datagram: Buffer, remote: RemoteInfo): boolean
  /** Sends a raw datagram from our port (for a DHT sharing it). */
  send(datagram: Uint8Array, port: number, address: string, callback?: (error: Error | null) => void): void
  /** The non-uTP traffic of the port as a dgram-like object. */
  datagrams(): UtpSharedDatagrams
  readonly udp: Socket
  readonly connectionCount: number
  /** Destroys every connection and closes the UDP socket (unless it was given to us). */
  close(): Promise<void>
  on<E extends keyof UtpSocketEvents>(event: E, listener: (...args: UtpSocketEvents[E]) => void): this
  once<E extends keyof UtpSocketEvents>(event: E, listener: (...args: UtpSocketEvents[E]) => void): this
  off<E extends keyof UtpSocketEvents>(event: E, listener: (...args: UtpSocketEvents[E]) => void): this
}

/** Binds (or adopts) a UDP socket and returns the uTP socket over it. */
export async function createUtpSocket(init: UtpSocketInit = {}): Promise<UtpSocket> {
  const options = connectionOptions(init)
  if (init.socket) return new UtpSocketImpl(init, options, init.socket, false)
  const type = init.type ?? 'udp4'
  const host = init.host ?? (type === 'udp6' ? '::' : '0.0.0.0')
  const port = init.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UtpArgumentError('port', `${port}`)
  const udp = createSocket({ type, ipv6Only: type === 'udp6' })
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      udp.close()
      reject(new UtpBindError(host, port, error))
    }
    udp.once('error', onError)
    udp.bind({ address: host, port, exclusive: true }, () => {
      udp.off('error', onError)
      resolve()
    })
  })
  const size = init.bufferSize ?? 4 * 1024 * 1024
  try {
    udp.setRecvBufferSize(size)
    udp.setSendBufferSize(size)
  } catch {
    // Best effort: the kernel's limits stand.
  }
  return new UtpSocketImpl(init, options, udp, true)
}

function connectionOptions(init: UtpSocketInit): ConnectionOptions {
  const options: ConnectionOptions = { ...DEFAULT_CONNECTION_OPTIONS }
  for (const key of Object.keys(DEFAULT_CONNECTION_OPTIONS) as (keyof ConnectionOptions)[]) {
    const value = init[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new UtpArgumentError(key, `${value}`)
    }
    options[key] = value
  }
  if (options.packetSize < 64 || options.packetSize > MAX_PACKET_SIZE) {
    throw new UtpArgumentError('packetSize', `${options.packetSize} (64…${MAX_PACKET_SIZE})`)
  }
  if (options.receiveWindow < 2 * options.packetSize) {
    throw new UtpArgumentError('receiveWindow', 'must hold at least two packets')
  }
  return options
}

class UtpSocketImpl extends EventEmitter<UtpSocketEvents> implements UtpSocket, ConnectionHost {
  readonly udp: Socket
  private readonly owned: boolean
  private readonly init: UtpSocketInit
  private readonly options: ConnectionOptions
  private readonly connections = new Map<string, Connection>()
  private readonly packet = createPacket()
  private last: Connection | undefined
  private readonly pendingAcks: Connection[] = []
  private acksScheduled = false
  private readonly ticker: NodeJS.Timeout
  private closed = false
  private readonly family: 'IPv4' | 'IPv6'
  private readonly shared = new Set<SharedDatagrams>()
  private readonly onMessage = (datagram: Buffer, remote: RemoteInfo) => {
    this.receive(datagram, remote)
  }
  private readonly onError = (error: Error) => {
    if (this.listenerCount('error') > 0) this.emit('error', error)
    for (const view of this.shared) view.emit('error', error)
  }

  constructor(init: UtpSocketInit, options: ConnectionOptions, udp: Socket, owned: boolean) {
    super()
    this.init = init
    this.options = options
    this.udp = udp
    this.owned = owned
    this.family = udp.address().family === 'IPv6' ? 'IPv6' : 'IPv4'
    if (owned || init.attach !== false) udp.on('message', this.onMessage)
    udp.on('error', this.onError)
    this.ticker = setInterval(() => this.tick(), TICK_MS)
    this.ticker.unref()
  }

  get connectionCount(): number {
    return this.connections.size
  }

  address(): AddressInfo {
    return this.udp.address()
  }

  // --- incoming ---

  receive(datagram: Buffer, remote: RemoteInfo): boolean {
    if (!isUtpPacket(datagram)) {
      if (this.closed) return false
      this.init.onDatagram?.(datagram, remote)
      for (const view of this.shared) view.emit('message', datagram, remote)
      return false
    }
    if (this.closed) return true
    const p = this.packet
    if (!decodePacket(datagram, p)) return true
    const now = performance.now()
    const id = p.connectionId
    const last = this.last
    if (
      last &&
      last.recvId === id &&
      last.remotePort === remote.port &&
      last.remoteAddress === remote.address
    ) {
      deliver(last, p, datagram, now)
      return true
    }
    if (p.type === ST_SYN) {
      this.incomingSyn(datagram, remote, now)
      return true
    }
    let connection = this.connections.get(key(remote.address, remote.port, id))
    if (!connection && p.type === ST_RESET) {
      // Some peers put their own recv id (ours ± 1) in a RESET; accept either neighbour.
      connection =
        this.connections.get(key(remote.address, remote.port, (id + 1) & 0xffff)) ??
        this.connections.get(key(remote.address, remote.port, (id - 1) & 0xffff))
      if (connection && connection.sendId !== id) connection = undefined
    }
    if (connection) {
      this.last = connection
      deliver(connection, p, datagram, now)
      return true
    }
    // A packet for no connection of ours: tell the sender, once per packet (no amplification).
    if (p.type !== ST_RESET) this.sendReset(remote, id, p.seq, now)
    return true
  }

  private incomingSyn(datagram: Buffer, remote: RemoteInfo, now: number): void {
    const p = this.packet
    const recvId = (p.connectionId + 1) & 0xffff
    const existing = this.connections.get(key(remote.address, remote.port, recvId))
    if (existing) {
      deliver(existing, p, datagram, now)
      return
    }
    const accepting = this.init.acceptIncoming !== false && this.listenerCount('connection') > 0
    if (!accepting || this.connections.size >= (this.init.maxConnections ?? 5000)) {
      this.sendReset(remote, p.connectionId, p.seq, now)
      return
    }
    const local = this.udp.address()
    const connection = new Connection({
      host: this,
      options: this.options,
      remoteAddress: remote.address,
      remotePort: remote.port,
      remoteFamily: remote.family === 'IPv6' ? 'IPv6' : 'IPv4',
      localAddress: local.address,
      localPort: local.port,
      recvId,
      sendId: p.connectionId,
      nowMs: now,
      syn: p,
    })
    this.connections.set(key(remote.address, remote.port, recvId), connection)
    this.emit('connection', connection)
  }

  private sendReset(remote: RemoteInfo, connectionId: number, seq: number, now: number): void {
    const datagram = Buffer.allocUnsafe(HEADER_SIZE)
    const seqNr = (Math.random() * 0x10000) & 0xffff
    writeHeader(datagram, 0, ST_RESET, EXTENSION_NONE, connectionId, microseconds(now), 0, 0, seqNr, seq)
    this.send(datagram, remote.port, remote.address)
  }

  // --- outgoing ---

  async connect(port: number, host: string, options: UtpConnectOptions = {}): Promise<UtpConnection> {
    options.signal?.throwIfAborted()
    if (this.closed) throw new UtpSocketClosedError()
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UtpArgumentError('port', `${port}`)
    // Connections are keyed by the address datagrams come from, so a name is resolved first.
    const family = this.family === 'IPv6' ? 6 : 4
    if (isIP(host) === 0) host = (await lookup(host, { family })).address
    if (isIP(host) !== family)
      throw new UtpArgumentError('host', `${host} is not IPv${family}, as this socket is`)
    const timeoutMs = options.timeoutMs ?? this.init.connectTimeoutMs ?? 8000
    let recvId = 0
    for (let tries = 0; ; tries++) {
      recvId = (Math.random() * 0x10000) & 0xffff
      const free =
        !this.connections.has(key(host, port, recvId)) &&
        !this.connections.has(key(host, port, (recvId + 1) & 0xffff))
      if (free) break
      if (tries > 100) throw new UtpArgumentError('host', `no free connection id towards ${host}:${port}`)
    }
    const local = this.udp.address()
    const connection = new Connection({
      host: this,
      options: this.options,
      remoteAddress: host,
      remotePort: port,
      remoteFamily: host.includes(':') ? 'IPv6' : 'IPv4',
      localAddress: local.address,
      localPort: local.port,
      recvId,
      sendId: (recvId + 1) & 0xffff,
      nowMs: performance.now(),
    })
    this.connections.set(key(host, port, recvId), connection)
    const timer = setTimeout(() => connection.connectTimedOut(timeoutMs), timeoutMs)
    const onAbort = () => connection.abortConnect(options.signal?.reason ?? new Error('aborted'))
    options.signal?.addEventListener('abort', onAbort, { once: true })
    // The stream's own 'error' is the caller's once it has the connection; until then we report it
    // through the rejection. A failed connection keeps its no-op listener: destroyed from a microtask
    // (an abort inside async code), its 'error' is emitted only after this function has returned.
    const swallow = () => {}
    connection.on('error', swallow)
    try {
      await connection.connected()
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
    connection.off('error', swallow)
    return connection
  }

  send(datagram: Uint8Array, port: number, address: string, callback?: (error: Error | null) => void): void {
    if (this.closed && this.owned) return
    try {
      this.udp.send(datagram, 0, datagram.length, port, address, callback)
    } catch (error) {
      // A shared socket its owner already closed: the datagram is lost, as UDP may lose it anyway.
      callback?.(error as Error)
    }
  }

  /** ConnectionHost: sends part of a datagram (a recycled packet buffer). */
  sendPacket(datagram: Uint8Array, length: number, port: number, address: string, onSent?: () => void): void {
    if (this.closed && this.owned) {
      onSent?.()
      return
    }
    try {
      this.udp.send(datagram, 0, length, port, address, onSent)
    } catch {
      onSent?.()
    }
  }

  deferAck(connection: Connection): void {
    if (connection.ackQueued) return
    connection.ackQueued = true
    this.pendingAcks.push(connection)
    if (!this.acksScheduled) {
      this.acksScheduled = true
      setImmediate(this.flushAcks)
    }
  }

  // One ack per connection per batch of datagrams, as libtorrent acks when its socket is drained.
  private readonly flushAcks = () => {
    this.acksScheduled = false
    const now = performance.now()
    const pending = this.pendingAcks
    for (let i = 0; i < pending.length; i++) {
      const connection = pending[i]!
      connection.ackQueued = false
      connection.flushAck(now)
    }
    pending.length = 0
  }

  remove(connection: Connection, lingerMs: number): void {
    const k = key(connection.remoteAddress, connection.remotePort, connection.recvId)
    const forget = () => {
      if (this.connections.get(k) === connection) this.connections.delete(k)
      if (this.last === connection) this.last = undefined
    }
    if (lingerMs > 0 && !this.closed) setTimeout(forget, lingerMs).unref()
    else forget()
  }

  private tick(): void {
    const now = performance.now()
    for (const connection of this.connections.values()) {
      try {
        connection.tick(now)
      } catch (error) {
        connection.destroy(error instanceof Error ? error : new Error(String(error)))
      }
    }
  }

  datagrams(): UtpSharedDatagrams {
    const view = new SharedDatagrams(this)
    this.shared.add(view)
    return view
  }

  detach(view: SharedDatagrams): void {
    this.shared.delete(view)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.flushAcks()
    this.closed = true
    clearInterval(this.ticker)
    for (const connection of [...this.connections.values()]) connection.destroy()
    this.connections.clear()
    this.last = undefined
    this.udp.off('message', this.onMessage)
    if (this.owned) {
      await new Promise<void>((resolve) => this.udp.close(() => resolve()))
    } else {
      this.udp.off('error', this.onError)
    }
    this.emit('close')
  }
}

class SharedDatagrams extends EventEmitter implements UtpSharedDatagrams {
  private readonly owner: UtpSocketImpl

  constructor(owner: UtpSocketImpl) {
    super()
    this.owner = owner
  }

  send(datagram: Uint8Array, port: number, address: string, callback?: (error: Error | null) => void): void {
    this.owner.send(datagram, port, address, callback)
  }

  address(): AddressInfo {
    return this.owner.address()
  }

  close(callback?: () => void): void {
    this.owner.detach(this)
    if (callback) queueMicrotask(callback)
  }
}

/**
 * Nothing may throw out of the UDP handler: a listener of the connection's stream that throws (its
 * 'data' handlers run inside our push) fails that connection, not the process.
 */
function deliver(connection: Connection, p: Packet, datagram: Buffer, now: number): void {
  try {
    connection.handlePacket(p, datagram, now)
  } catch (error) {
    connection.destroy(error instanceof Error ? error : new Error(String(error)))
  }
}

function key(address: string, port: number, id: number): string {
  return `${address}|${port}|${id}`
}

// One peer connection: the handshake, the extended handshake, both sides' choke/interest state, the
// peer's pieces, keep-alives and the idle timeout, backpressure both ways, and one typed close.
import { EventEmitter } from 'node:events'
import { connect as netConnect, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { Bitfield, BitfieldError } from '@bt/bitfield'
import { canonicalIp, ipToBytes } from '@bt/peer-address'
import { MessageDecoder } from './decoder.js'
import { encodedLength, encodeMessageInto, pieceHeaderInto } from './encoder.js'
import {
  ExtensionNotSupportedError,
  HandshakeError,
  PeerConnectionError,
  PeerProtocolError,
  PeerTimeoutError,
} from './errors.js'
import {
  decodeExtendedHandshake,
  type ExtendedHandshake,
  type ExtendedHandshakeInit,
  encodeExtendedHandshake,
} from './extended-handshake.js'
import type { ExtensionRegistry } from './extension-registry.js'
import { encodeHandshake, type ReservedFeatures, readReserved, reservedBytes } from './handshake.js'
import {
  CHOKE,
  type ExtendedMessage,
  HAVE_ALL,
  HAVE_NONE,
  INTERESTED,
  KEEP_ALIVE,
  MessageId,
  NOT_INTERESTED,
  UNCHOKE,
  type WireMessage,
} from './messages.js'

/** What a connection needs to know about its torrent and ourselves. */
export interface PeerConnectionInit {
  /** The torrent's 20-byte (v1) info hash. */
  infoHash: Uint8Array
  /** Our 20-byte peer id. */
  peerId: Uint8Array
  /**
   * The 8 reserved handshake bytes we send. Default: extension protocol and fast extension
   * (`reservedBytes({ extended: true, fast: true })`).
   */
  reserved?: Uint8Array
  /** The torrent's piece count; leave it out for a magnet until its metadata arrives (`setPieceCount`). */
  pieceCount?: number
  /** BEP 10 extensions to advertise and route messages to. */
  extensions?: ExtensionRegistry
  /** Fields of our extended handshake besides `m` and `yourip`. */
  extendedHandshake?: ExtendedHandshakeInit
  /** Drop the peer unless its peer id is this one (peer lists from trackers may name it). */
  expectedPeerId?: Uint8Array
}

export interface PeerConnectionOptions {
  /** Aborts the connect and handshake (the connection closes with the signal's reason). */
  signal?: AbortSignal
  /** `connectPeer` only: the local IP address to dial from (a machine with several, e.g. 127.0.0.5). */
  localAddress?: string
  /** Default 10 s. */
  connectTimeoutMs?: number
  /** From TCP connect to the peer's complete handshake. Default 10 s. */
  handshakeTimeoutMs?: number
  /** Send a keep-alive after this long without sending anything. Default 2 min; 0 disables. */
  keepAliveIntervalMs?: number
  /** Close a peer that sent nothing for this long (not counted while paused). Default 4 min; 0 disables. */
  idleTimeoutMs?: number
  /** Largest accepted `piece` block. Default 1 MiB. */
  maxBlockLength?: number
  /** Largest accepted extended message payload. Default 1 MiB. */
  maxExtendedLength?: number
}

export interface OpenPeerOptions extends PeerConnectionOptions {
  /** Our handshake went out already (e.g. as MSE's initial payload): do not send it again. */
  handshakeSent?: boolean
}

export interface AcceptPeerOptions extends PeerConnectionOptions {
  /** Who the peer is; required unless the stream is a `net.Socket`, which knows. */
  remoteAddress?: PeerAddressLike
}

export interface AcceptInit {
  /**
   * The torrent an incoming peer asks for, by info hash; `undefined` drops the peer. Called once the
   * first 48 bytes of its handshake are in; our handshake answers after it.
   */
  findTorrent(
    infoHash: Uint8Array,
  ):
    | Omit<PeerConnectionInit, 'infoHash'>
    | undefined
    | Promise<Omit<PeerConnectionInit, 'infoHash'> | undefined>
}

export interface PeerAddressLike {
  host: string
  port: number
}

/** An extended message as a connection emits it: `name` is our extension for `id`, if registered. */
export interface NamedExtendedMessage extends ExtendedMessage {
  readonly name: string | undefined
}

/** The peer's extended handshake arrived (again, when it sends an update). */
export interface ExtendedHandshakeMessage {
  readonly type: 'extended-handshake'
  readonly handshake: ExtendedHandshake
}

/** What a connection emits: every wire message, with extended id 0 decoded into its handshake. */
export type PeerMessage =
  | Exclude<WireMessage, ExtendedMessage>
  | NamedExtendedMessage
  | ExtendedHandshakeMessage

export interface PeerConnectionEvents {
  /** One event for every message: switch on `message.type`. */
  message: [message: PeerMessage]
  /** The socket's send buffer emptied after a send returned `false`. */
  drain: []
  /** Exactly once: `undefined` after a plain `close()`, else why the connection ended. */
  close: [reason: Error | undefined]
}

const DEFAULT_CONNECT_TIMEOUT = 10_000
const DEFAULT_HANDSHAKE_TIMEOUT = 10_000
const DEFAULT_KEEP_ALIVE = 120_000
const DEFAULT_IDLE_TIMEOUT = 240_000
/** Size of the buffers outgoing messages are batched in (a request is 17 bytes). */
const OUTBOX_SIZE = 16 * 1024
/** `have` messages remembered before the piece count is known; far more than a metadata exchange sees. */
const MAX_PENDING_HAVES = 1 << 16
const EMPTY = new Uint8Array(0)
const DEFAULT_RESERVED = reservedBytes({ extended: true, fast: true })

type Phase = 'connecting' | 'handshake' | 'open' | 'closed'

/**
 * Dials `address`, exchanges handshakes (and extended handshakes when both sides support BEP 10) and
 * resolves with the open connection. Messages start flowing on the next event-loop turn, so listeners
 * attached right after `await` see all of them.
 */
export async function connectPeer(
  address: PeerAddressLike,
  init: PeerConnectionInit,
  options: PeerConnectionOptions = {},
): Promise<PeerConnection> {
  options.signal?.throwIfAborted()
  checkInit(init)
  const socket = netConnect({
    host: address.host,
    port: address.port,
    noDelay: true,
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
  })
  const remote = { host: address.host, port: address.port }
  return new PeerConnection(socket, remote, init, undefined, options, 'dial').opened
}

/**
 * Speaks BitTorrent as the dialling side over an established `stream` (an MSE stream, a uTP stream…) to
 * `remoteAddress`: sends our handshake (unless `handshakeSent`), reads the peer's, and resolves with the
 * open connection. The connection owns the stream from now on: it is destroyed when the connection closes.
 */
export async function openPeer(
  stream: Duplex,
  remoteAddress: PeerAddressLike,
  init: PeerConnectionInit,
  options: OpenPeerOptions = {},
): Promise<PeerConnection> {
  if (options.signal?.aborted) {
    stream.destroy()
    throw options.signal.reason
  }
  checkInit(init)
  const remote = { host: remoteAddress.host, port: remoteAddress.port }
  const mode = options.handshakeSent === true ? 'opened' : 'open'
  return new PeerConnection(stream, remote, init, undefined, options, mode).opened
}

/**
 * Takes over an incoming `socket` (or any Duplex, given `options.remoteAddress`): reads the peer's
 * handshake, asks `accept.findTorrent` for its info hash, answers, and resolves with the open connection.
 * Fails (and destroys the stream) on an unknown torrent, a bad handshake, a timeout or an abort.
 */
export function acceptPeer(
  socket: Duplex,
  accept: AcceptInit,
  options: AcceptPeerOptions = {},
): Promise<PeerConnection> {
  if (options.signal?.aborted) {
    socket.destroy()
    return Promise.reject(options.signal.reason)
  }
  let address = options.remoteAddress
  if (socket instanceof Socket) {
    socket.setNoDelay(true)
    // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`: name them as they dial and are banned.
    const host = socket.remoteAddress ?? ''
    address ??= { host, port: socket.remotePort ?? 0 }
  }
  if (address === undefined) {
    socket.destroy()
    return Promise.reject(
      new TypeError('peer-wire: acceptPeer needs options.remoteAddress for a non-socket stream'),
    )
  }
  const remote = { host: canonicalIp(address.host) ?? address.host, port: address.port }
  return new PeerConnection(socket, remote, undefined, accept, options, 'accept').opened
}

/** An open peer connection; made by `connectPeer` or `acceptPeer`. */
export class PeerConnection extends EventEmitter<PeerConnectionEvents> {
  /** The peer's address (as dialled, or as the incoming socket reports it). */
  readonly remoteAddress: PeerAddressLike
  readonly direction: 'outgoing' | 'incoming'
  /** @internal resolves once the handshakes are done. */
  readonly opened: Promise<PeerConnection>

  /** The byte stream: a TCP socket, or an MSE (later uTP) stream over one. */
  private readonly socket: Duplex
  private readonly decoder: MessageDecoder
  private readonly options: PeerConnectionOptions
  private init: PeerConnectionInit | undefined
  private readonly accept: AcceptInit | undefined
  private phase: Phase = 'connecting'
  private lookingUp = false
  private resolveOpened: ((connection: PeerConnection) => void) | undefined
  private rejectOpened: ((reason: unknown) => void) | undefined
  private openTimer: NodeJS.Timeout | undefined
  private tickTimer: NodeJS.Timeout | undefined
  private readonly keepAliveMs: number
  private readonly idleTimeoutMs: number
  private lastReceived = Date.now()
  private lastSent = Date.now()

  private started = false
  private paused = false
  private dispatching = false

  private corks = 0
  private parts: Uint8Array[] = []
  /** `piece` callbacks waiting for their block (`parts[at]`) to be written. */
  private partsWritten: { at: number; callback: () => void }[] = []
  private outbox: Uint8Array = EMPTY
  private outboxStart = 0
  private outboxEnd = 0

  private remote: { peerId: Uint8Array; reserved: Uint8Array; infoHash: Uint8Array } | undefined
  private fast = false
  private extended = false
  private peerExtendedHandshake: ExtendedHandshake | undefined
  private state = { amChoking: true, amInterested: false, peerChoking: true, peerInterested: false }
  private pieces: Bitfield | undefined
  private pending: { bitfield?: Uint8Array; all?: boolean; haves: Set<number> } = { haves: new Set() }
  private sawBitfield = false
  private reason: Error | undefined

  /**
   * @internal use `connectPeer`, `openPeer` or `acceptPeer`. `mode`: `dial` waits for the TCP connect,
   * `open` sends our handshake at once, `opened` finds it sent already, `accept` answers the peer's.
   */
  constructor(
    socket: Duplex,
    remoteAddress: PeerAddressLike,
    init: PeerConnectionInit | undefined,
    accept: AcceptInit | undefined,
    options: PeerConnectionOptions,
    mode: 'dial' | 'open' | 'opened' | 'accept',
  ) {
    super()
    this.socket = socket
    this.remoteAddress = remoteAddress
    this.init = init
    this.accept = accept
    this.options = options
    this.direction = init === undefined ? 'incoming' : 'outgoing'
    this.keepAliveMs = nonNegative('keepAliveIntervalMs', options.keepAliveIntervalMs, DEFAULT_KEEP_ALIVE)
    this.idleTimeoutMs = nonNegative('idleTimeoutMs', options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT)
    this.decoder = new MessageDecoder({
      pieceCount: init?.pieceCount,
      maxBlockLength: options.maxBlockLength,
      maxExtendedLength: options.maxExtendedLength,
    })
    this.opened = new Promise<PeerConnection>((resolve, reject) => {
      this.resolveOpened = resolve
      this.rejectOpened = reject
    })

    socket.on('data', this.onData)
    socket.on('error', this.onError)
    socket.on('end', this.onEnd)
    socket.on('close', this.onEnd)
    socket.on('drain', this.onDrain)
    options.signal?.addEventListener('abort', this.onAbort, { once: true })
    // A stream handed over by a handshake layer may have been read in paused mode: start it flowing.
    socket.resume()

    if (mode === 'dial') {
      this.phase = 'connecting'
      const timeout = nonNegative('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT)
      this.openTimer = setTimeout(() => this.close(new PeerTimeoutError('connect', timeout)), timeout)
      socket.once('connect', this.onConnect)
    } else {
      this.startHandshake()
      if (mode === 'open') this.writeRaw(ourHandshake(this.init!))
    }
  }

  // --- state -----------------------------------------------------------------------------------------

  /** The torrent's info hash. */
  get infoHash(): Uint8Array {
    return this.remote!.infoHash
  }

  /** Our peer id on this connection. */
  get peerId(): Uint8Array {
    return this.init!.peerId
  }

  get remotePeerId(): Uint8Array {
    return this.remote!.peerId
  }

  /** The 8 reserved bytes of the peer's handshake. */
  get remoteReserved(): Uint8Array {
    return this.remote!.reserved
  }

  /** What the peer's reserved bytes announce. */
  get remoteExtensions(): ReservedFeatures {
    return readReserved(this.remote!.reserved)
  }

  /** Extensions both sides announced, so usable on this connection. */
  get negotiated(): { fast: boolean; extended: boolean } {
    return { fast: this.fast, extended: this.extended }
  }

  /** The peer's extended handshake (merged over its updates), once received. */
  get extendedHandshake(): ExtendedHandshake | undefined {
    return this.peerExtendedHandshake
  }

  get amChoking(): boolean {
    return this.state.amChoking
  }

  get amInterested(): boolean {
    return this.state.amInterested
  }

  get peerChoking(): boolean {
    return this.state.peerChoking
  }

  get peerInterested(): boolean {
    return this.state.peerInterested
  }

  /** The torrent's piece count, `undefined` until known. */
  get pieceCount(): number | undefined {
    return this.decoder.pieceCount
  }

  /**
   * Pieces the peer announced (bitfield, have, have-all…), `undefined` while the piece count is unknown.
   * Kept up to date by the connection; do not modify it.
   */
  get peerPieces(): Bitfield | undefined {
    return this.pieces
  }

  get closed(): boolean {
    return this.phase === 'closed'
  }

  /** Why the connection closed (`undefined` while open or after a plain `close()`). */
  get closeReason(): Error | undefined {
    return this.reason
  }

  get isPaused(): boolean {
    return this.paused
  }

  /** Bytes handed to the socket that it has not passed to the kernel yet. */
  get writableLength(): number {
    return this.socket.writableLength
  }

  /** True while the socket's send buffer is over its high-water mark: wait for `'drain'`. */
  get writableNeedDrain(): boolean {
    return this.socket.writableNeedDrain
  }

  /**
   * Sets the piece count once a magnet's metadata is known. Bitfield and `have` messages received before
   * are checked now: an invalid one closes the connection with a `PeerProtocolError`.
   */
  setPieceCount(count: number): void {
    const known = this.decoder.pieceCount
    if (known !== undefined) {
      if (known === count) return
      throw new RangeError(`peer-wire: the piece count is already ${known}`)
    }
    this.decoder.pieceCount = count
    if (this.phase !== 'open') return
    try {
      this.pieces = this.pendingPieces(count)
    } catch (error) {
      if (!(error instanceof PeerProtocolError)) throw error
      this.close(error)
    }
  }

  // --- reading ---------------------------------------------------------------------------------------

  /** Stops reading from the socket (TCP then pushes back on the peer) until `resume()`. */
  pause(): void {
    if (this.paused) return
    this.paused = true
    this.socket.pause()
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.lastReceived = Date.now()
    if (this.phase === 'closed') return
    this.socket.resume()
    this.dispatch()
  }

  /** Resolves once the send buffer has drained (at once if it is not full); rejects if the connection closes. */
  async waitForDrain(options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.phase === 'closed') throw this.reason ?? new PeerConnectionError('the connection is closed')
    if (!this.socket.writableNeedDrain) return
    let cleanup = () => {}
    try {
      await new Promise<void>((resolve, reject) => {
        const onClose = (reason: Error | undefined) =>
          reject(reason ?? new PeerConnectionError('the connection is closed'))
        const onAbort = () => reject(options.signal?.reason)
        this.once('drain', resolve)
        this.once('close', onClose)
        options.signal?.addEventListener('abort', onAbort, { once: true })
        cleanup = () => {
          this.off('drain', resolve)
          this.off('close', onClose)
          options.signal?.removeEventListener('abort', onAbort)
        }
      })
    } finally {
      cleanup()
    }
  }

  // --- sending: each returns false when the socket's buffer is full (wait for 'drain') ----------------

  keepAlive(): boolean {
    return this.send(KEEP_ALIVE)
  }

  choke(): boolean {
    this.state.amChoking = true
    return this.send(CHOKE)
  }

  unchoke(): boolean {
    this.state.amChoking = false
    return this.send(UNCHOKE)
  }

  interested(): boolean {
    this.state.amInterested = true
    return this.send(INTERESTED)
  }

  notInterested(): boolean {
    this.state.amInterested = false
    return this.send(NOT_INTERESTED)
  }

  have(index: number): boolean {
    return this.send({ type: 'have', index })
  }

  bitfield(bitfield: Bitfield | Uint8Array): boolean {
    return this.send({ type: 'bitfield', bitfield: bitfield instanceof Bitfield ? bitfield.bytes : bitfield })
  }

  request(index: number, begin: number, length: number): boolean {
    return this.send({ type: 'request', index, begin, length })
  }

  cancel(index: number, begin: number, length: number): boolean {
    return this.send({ type: 'cancel', index, begin, length })
  }

  /**
   * Sends a block; the block is written as is, not copied: do not modify it until the write is done.
   * `onWritten` says when that is: called once the socket no longer holds the block (sent to the
   * kernel, or dropped because the connection closed), so its memory can be reused.
   */
  piece(index: number, begin: number, block: Uint8Array, onWritten?: () => void): boolean {
    if (this.phase !== 'open') {
      onWritten?.()
      return false
    }
    const at = this.reserve(13)
    this.outboxEnd = pieceHeaderInto(this.outbox, at, index, begin, block.length)
    this.seal()
    if (onWritten !== undefined) this.partsWritten.push({ at: this.parts.length, callback: onWritten })
    this.parts.push(block)
    return this.corks > 0 ? !this.socket.writableNeedDrain : this.flush()
  }

  /** BEP 5: our DHT port. */
  port(port: number): boolean {
    return this.send({ type: 'port', port })
  }

  /** BEP 6 (throws `ExtensionNotSupportedError` unless the fast extension was negotiated). */
  haveAll(): boolean {
    return this.sendFast(HAVE_ALL)
  }

  haveNone(): boolean {
    return this.sendFast(HAVE_NONE)
  }

  reject(index: number, begin: number, length: number): boolean {
    return this.sendFast({ type: 'reject', index, begin, length })
  }

  allowedFast(index: number): boolean {
    return this.sendFast({ type: 'allowed-fast', index })
  }

  suggest(index: number): boolean {
    return this.sendFast({ type: 'suggest', index })
  }

  /**
   * Sends a BEP 10 message for extension `name` under the peer's id for it. Throws
   * `ExtensionNotSupportedError` if the peer's extended handshake did not list `name`.
   */
  sendExtended(name: string, payload: Uint8Array): boolean {
    const id = this.peerExtendedHandshake?.m.get(name)
    if (!this.extended || id === undefined) throw new ExtensionNotSupportedError(name)
    return this.send({ type: 'extended', id, payload })
  }

  /**
   * Holds sends until the matching `uncork()`, then writes them in one buffer and one write: use it
   * around a burst of requests. Nests. Received messages are dispatched corked already.
   */
  cork(): void {
    this.corks++
  }

  uncork(): boolean {
    if (this.corks > 0) this.corks--
    return this.corks === 0 ? this.flush() : !this.socket.writableNeedDrain
  }

  /** Closes the connection (once; later calls do nothing). `reason` is passed to `'close'` listeners. */
  close(reason?: Error): void {
    if (this.phase === 'closed') return
    const opening = this.phase !== 'open'
    this.phase = 'closed'
    this.reason = reason
    clearTimeout(this.openTimer)
    clearInterval(this.tickTimer)
    this.options.signal?.removeEventListener('abort', this.onAbort)
    this.socket.destroy()
    this.parts = []
    this.outbox = EMPTY
    const unsent = this.partsWritten
    this.partsWritten = []
    for (const { callback } of unsent) callback()
    if (opening) {
      this.rejectOpened?.(reason ?? new PeerConnectionError('closed during the handshake'))
    }
    this.resolveOpened = undefined
    this.rejectOpened = undefined
    // Never from inside a message handler's call stack: listeners see the close after it returns.
    process.nextTick(() => this.emit('close', reason))
  }

  // --- internals -------------------------------------------------------------------------------------

  private readonly onConnect = () => {
    if (this.phase !== 'connecting') return
    clearTimeout(this.openTimer)
    this.startHandshake()
    this.writeRaw(ourHandshake(this.init!))
  }

  private readonly onData = (chunk: Buffer) => {
    this.lastReceived = Date.now()
    this.decoder.push(chunk)
    if (this.phase === 'open') this.dispatch()
    else if (this.phase === 'handshake') this.readHandshake()
  }

  private readonly onError = (error: Error) => {
    const where =
      this.phase === 'connecting'
        ? `could not connect to ${this.remoteAddress.host}:${this.remoteAddress.port}`
        : 'socket error'
    this.close(new PeerConnectionError(`${where}: ${error.message}`, { cause: error }))
  }

  private readonly onEnd = () => {
    this.close(new PeerConnectionError('the peer closed the connection', { closedByPeer: true }))
  }

  private readonly onDrain = () => {
    if (this.phase === 'open') this.emit('drain')
  }

  private readonly onAbort = () => {
    if (this.phase === 'open') return
    this.close(
      this.options.signal?.reason instanceof Error
        ? this.options.signal.reason
        : new DOMException('the connection was aborted', 'AbortError'),
    )
  }

  private readonly tick = () => {
    if (this.phase !== 'open') return
    const now = Date.now()
    if (this.idleTimeoutMs > 0 && !this.paused && now - this.lastReceived >= this.idleTimeoutMs) {
      this.close(new PeerTimeoutError('idle', this.idleTimeoutMs))
      return
    }
    if (this.keepAliveMs > 0 && now - this.lastSent >= this.keepAliveMs && this.corks === 0) this.keepAlive()
  }

  private startHandshake(): void {
    this.phase = 'handshake'
    const timeout = nonNegative(
      'handshakeTimeoutMs',
      this.options.handshakeTimeoutMs,
      DEFAULT_HANDSHAKE_TIMEOUT,
    )
    this.openTimer = setTimeout(() => this.close(new PeerTimeoutError('handshake', timeout)), timeout)
  }

  private readHandshake(): void {
    // A stream may deliver the peer's answer synchronously inside our own write (an in-memory or
    // user-space stream does): by the time the caller gets here the handshake may be read already.
    if (this.lookingUp || this.phase !== 'handshake') return
    try {
      if (this.init === undefined) {
        this.lookUpTorrent()
        return
      }
      const handshake = this.decoder.nextHandshake()
      if (handshake === undefined) return
      const init = this.init
      const infoHashHex = hex(handshake.infoHash)
      if (!equalBytes(handshake.infoHash, init.infoHash)) {
        throw new HandshakeError('info-hash', `the peer answered for info hash ${infoHashHex}`, infoHashHex)
      }
      if (equalBytes(handshake.peerId, init.peerId)) {
        throw new HandshakeError('self-connection', 'the peer id is our own', infoHashHex)
      }
      if (init.expectedPeerId !== undefined && !equalBytes(handshake.peerId, init.expectedPeerId)) {
        throw new HandshakeError('peer-id', `unexpected peer id ${hex(handshake.peerId)}`, infoHashHex)
      }
      this.open(handshake)
    } catch (error) {
      this.close(error as Error)
    }
  }

  /** Incoming: the info hash is in the first 48 bytes; find the torrent, then answer. */
  private lookUpTorrent(): void {
    this.decoder.checkHandshakePrefix()
    const head = this.decoder.peek(48)
    if (head === undefined) return
    const infoHash = head.slice(28, 48)
    this.lookingUp = true
    // Nothing more is read while an async lookup runs, so a flood cannot pile up in the decoder.
    this.socket.pause()
    let found: ReturnType<AcceptInit['findTorrent']>
    try {
      found = this.accept!.findTorrent(infoHash)
    } catch (error) {
      this.close(error as Error)
      return
    }
    Promise.resolve(found).then(
      (init) => {
        this.lookingUp = false
        if (this.phase !== 'handshake') return
        this.socket.resume()
        if (init === undefined) {
          const infoHashHex = hex(infoHash)
          this.close(new HandshakeError('unknown-torrent', `no torrent ${infoHashHex} here`, infoHashHex))
          return
        }
        const full = { ...init, infoHash }
        try {
          checkInit(full)
          if (full.pieceCount !== undefined) this.decoder.pieceCount = full.pieceCount
        } catch (error) {
          this.close(error as Error)
          return
        }
        this.init = full
        this.writeRaw(ourHandshake(full))
        this.readHandshake()
      },
      (error: unknown) => this.close(error instanceof Error ? error : new Error(String(error))),
    )
  }

  private open(handshake: { reserved: Uint8Array; infoHash: Uint8Array; peerId: Uint8Array }): void {
    const init = this.init!
    this.remote = handshake
    const ours = readReserved(init.reserved ?? DEFAULT_RESERVED)
    const theirs = readReserved(handshake.reserved)
    this.fast = ours.fast && theirs.fast
    this.extended = ours.extended && theirs.extended
    const count = this.decoder.pieceCount
    if (count !== undefined) this.pieces = new Bitfield(count)
    clearTimeout(this.openTimer)
    this.options.signal?.removeEventListener('abort', this.onAbort)
    this.phase = 'open'
    this.lastReceived = Date.now()
    if (this.extended) {
      const ids = init.extensions?.ids ?? new Map<string, number>()
      // The IP the socket reports, not a host name we may have dialled; a non-socket stream has the address it was given.
      const remote = this.socket instanceof Socket ? this.socket.remoteAddress : this.remoteAddress.host
      const yourip = remote === undefined ? undefined : ipToBytes(remote)
      const payload = encodeExtendedHandshake(ids, init.extendedHandshake, yourip)
      this.send({ type: 'extended', id: 0, payload })
    }
    const period = [this.keepAliveMs, this.idleTimeoutMs].filter((ms) => ms > 0)
    if (period.length > 0) {
      this.tickTimer = setInterval(this.tick, Math.max(1, Math.min(...period) / 4))
      this.tickTimer.unref()
    }
    this.resolveOpened?.(this)
    this.resolveOpened = undefined
    this.rejectOpened = undefined
    // The caller gets the connection in a microtask; its listeners are attached before this runs.
    setImmediate(() => {
      this.started = true
      this.dispatch()
    })
  }

  private dispatch(): void {
    if (this.dispatching || !this.started || this.paused) return
    this.dispatching = true
    // Replies sent while handling one read (a request per received block) leave in one write.
    this.corks++
    try {
      while (this.phase === 'open' && !this.paused) {
        let message: WireMessage | undefined
        let event: PeerMessage
        try {
          message = this.decoder.next()
          if (message === undefined) break
          event = this.apply(message)
        } catch (error) {
          if (!(error instanceof PeerProtocolError)) throw error
          this.close(error)
          break
        }
        const extensions = this.init!.extensions
        if (extensions !== undefined) {
          if (event.type === 'extended') {
            extensions.byId(event.id)?.onMessage?.(this, event.payload)
          } else if (event.type === 'extended-handshake') {
            for (const id of extensions.ids.values())
              extensions.byId(id)?.onHandshake?.(this, event.handshake)
          }
        }
        this.emit('message', event)
      }
    } finally {
      this.dispatching = false
      this.corks--
      if (this.corks === 0 && this.phase === 'open') this.flush()
    }
  }

  /** Updates the connection state for a received message; throws `PeerProtocolError` if it is not allowed. */
  private apply(message: WireMessage): PeerMessage {
    switch (message.type) {
      case 'piece':
      case 'request':
      case 'cancel':
      case 'keep-alive':
      case 'port':
        return message
      case 'choke':
        this.state.peerChoking = true
        return message
      case 'unchoke':
        this.state.peerChoking = false
        return message
      case 'interested':
        this.state.peerInterested = true
        return message
      case 'not-interested':
        this.state.peerInterested = false
        return message
      case 'have':
        if (this.pieces !== undefined) this.pieces.set(message.index)
        else if (this.pending.haves.size < MAX_PENDING_HAVES) this.pending.haves.add(message.index)
        else
          throw new PeerProtocolError('unexpected-message', MessageId.have, 'too many haves before metadata')
        return message
      case 'bitfield':
        this.sawBitfield = true
        if (this.pieces !== undefined) this.pieces = this.mergeBitfield(message.bitfield, this.pieces)
        else this.pending.bitfield = message.bitfield.slice()
        return message
      case 'have-all':
      case 'have-none': {
        const id = message.type === 'have-all' ? MessageId.haveAll : MessageId.haveNone
        this.requireFast(id)
        const all = message.type === 'have-all'
        // A later have-none cannot take back pieces already announced: it changes nothing.
        if (this.sawBitfield && !all) return message
        this.sawBitfield = true
        if (this.pieces === undefined) this.pending.all = all
        else if (all) this.pieces.setAll()
        return message
      }
      case 'suggest':
        this.requireFast(MessageId.suggest)
        return message
      case 'reject':
        this.requireFast(MessageId.reject)
        return message
      case 'allowed-fast':
        this.requireFast(MessageId.allowedFast)
        return message
      case 'extended': {
        if (!this.extended) {
          throw new PeerProtocolError('not-negotiated', MessageId.extended, 'extended message without BEP 10')
        }
        if (message.id === 0) {
          this.peerExtendedHandshake = decodeExtendedHandshake(message.payload, this.peerExtendedHandshake)
          return { type: 'extended-handshake', handshake: this.peerExtendedHandshake }
        }
        const name = this.init!.extensions?.byId(message.id)?.name
        return { type: 'extended', id: message.id, name, payload: message.payload }
      }
    }
  }

  private requireFast(id: number): void {
    if (!this.fast) {
      throw new PeerProtocolError('not-negotiated', id, `message id ${id} without the fast extension`)
    }
  }

  private mergeBitfield(bytes: Uint8Array, haves: Bitfield): Bitfield {
    let field: Bitfield
    try {
      field = Bitfield.fromBytes(bytes, haves.length)
    } catch (error) {
      if (!(error instanceof BitfieldError)) throw error
      throw new PeerProtocolError('invalid-bitfield', MessageId.bitfield, error.message)
    }
    for (const index of haves.indices()) field.set(index)
    return field
  }

  /** The peer's pieces once the count is known, from what it sent before. */
  private pendingPieces(count: number): Bitfield {
    const pending = this.pending
    let field = new Bitfield(count)
    if (pending.all === true) field.setAll()
    for (const index of pending.haves) {
      if (index >= count) {
        throw new PeerProtocolError('invalid-index', MessageId.have, `have ${index} of ${count} pieces`)
      }
      field.set(index)
    }
    if (pending.bitfield !== undefined) {
      if (pending.bitfield.length !== field.bytes.length) {
        throw new PeerProtocolError(
          'invalid-bitfield',
          MessageId.bitfield,
          `bitfield of ${pending.bitfield.length} bytes for ${count} pieces`,
        )
      }
      field = this.mergeBitfield(pending.bitfield, field)
    }
    this.pending = { haves: new Set() }
    return field
  }

  private sendFast(message: WireMessage): boolean {
    if (!this.fast) throw new ExtensionNotSupportedError('fast')
    return this.send(message)
  }

  private send(message: WireMessage): boolean {
    if (this.phase !== 'open') return false
    const at = this.reserve(encodedLength(message))
    this.outboxEnd = encodeMessageInto(message, this.outbox, at)
    return this.corks > 0 ? !this.socket.writableNeedDrain : this.flush()
  }

  /** Room for `size` bytes at the end of the outbox; returns where to write them. */
  private reserve(size: number): number {
    if (this.outbox.length - this.outboxEnd < size) {
      this.seal()
      this.outbox = new Uint8Array(Math.max(OUTBOX_SIZE, size))
      this.outboxStart = 0
      this.outboxEnd = 0
    }
    return this.outboxEnd
  }

  /** Queues the outbox bytes written so far; they are never overwritten, later ones go after them. */
  private seal(): void {
    if (this.outboxEnd > this.outboxStart) {
      this.parts.push(this.outbox.subarray(this.outboxStart, this.outboxEnd))
      this.outboxStart = this.outboxEnd
    }
  }

  private flush(): boolean {
    this.seal()
    const parts = this.parts
    if (parts.length === 0) return !this.socket.writableNeedDrain
    const written = this.partsWritten
    this.parts = []
    this.partsWritten = []
    this.lastSent = Date.now()
    let ok = true
    if (parts.length === 1) {
      ok = this.socket.write(parts[0]!, written[0]?.callback)
    } else {
      // One writev for a header and its block, or for a batch that outgrew one outbox buffer.
      this.socket.cork()
      let next = 0
      for (let at = 0; at < parts.length; at++) {
        const callback = written[next]?.at === at ? written[next++]!.callback : undefined
        ok = this.socket.write(parts[at]!, callback)
      }
      this.socket.uncork()
    }
    return ok
  }

  private writeRaw(bytes: Uint8Array): void {
    this.lastSent = Date.now()
    this.socket.write(bytes)
  }
}

/**
 * The 68-byte handshake a connection with `init` sends: for a layer below that carries it itself (MSE's
 * initial payload), before `openPeer(…, { handshakeSent: true })`.
 */
export function ourHandshake(init: PeerConnectionInit): Uint8Array {
  return encodeHandshake({
    reserved: init.reserved ?? DEFAULT_RESERVED,
    infoHash: init.infoHash,
    peerId: init.peerId,
  })
}

function checkInit(init: PeerConnectionInit): void {
  for (const [field, bytes, length] of [
    ['infoHash', init.infoHash, 20],
    ['peerId', init.peerId, 20],
    ['reserved', init.reserved ?? new Uint8Array(8), 8],
    ['expectedPeerId', init.expectedPeerId ?? new Uint8Array(20), 20],
  ] as const) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
      throw new TypeError(`peer-wire: ${field} must be ${length} bytes`)
    }
  }
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`peer-wire: ${name} must be a non-negative number of milliseconds, got ${value}`)
  }
  return value
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
}

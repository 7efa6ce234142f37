// Loopback plumbing for the connection tests: a listening server, a connected pair of our own
// connections, and a raw peer whose bytes a test writes and reads itself.
import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import {
  type AcceptInit,
  acceptPeer,
  connectPeer,
  type PeerConnection,
  type PeerConnectionInit,
  type PeerConnectionOptions,
  type PeerMessage,
} from '../src/index.js'

export interface Listening {
  port: number
  server: Server
  close(): Promise<void>
}

export async function listen(onSocket: (socket: Socket) => void): Promise<Listening> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    onSocket(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

export function peerId(): Uint8Array {
  return Uint8Array.from([...Buffer.from('-BT0001-'), ...randomBytes(12)])
}

export const INFO_HASH = new Uint8Array(randomBytes(20))

export function baseInit(overrides: Partial<PeerConnectionInit> = {}): PeerConnectionInit {
  return { infoHash: INFO_HASH, peerId: peerId(), pieceCount: 10, ...overrides }
}

export interface Pair {
  /** The side that dialled. */
  a: PeerConnection
  /** The side that accepted. */
  b: PeerConnection
  close(): Promise<void>
}

/** Two of our own connections talking over loopback TCP. */
export async function connectedPair(
  aInit: PeerConnectionInit,
  bInit: Omit<PeerConnectionInit, 'infoHash'>,
  options: { a?: PeerConnectionOptions; b?: PeerConnectionOptions } = {},
): Promise<Pair> {
  let accepted: Promise<PeerConnection> | undefined
  const accept: AcceptInit = { findTorrent: () => bInit }
  const server = await listen((socket) => {
    accepted = acceptPeer(socket, accept, options.b)
  })
  const a = await connectPeer({ host: '127.0.0.1', port: server.port }, aInit, options.a)
  const b = await accepted!
  return {
    a,
    b,
    async close() {
      a.close()
      b.close()
      await server.close()
    },
  }
}

/** Records every message a connection emits. */
export function record(connection: PeerConnection): PeerMessage[] {
  const messages: PeerMessage[] = []
  connection.on('message', (message) => messages.push(message))
  return messages
}

/** The next message of `type` (or the connection's close as a rejection). */
export function nextMessage<T extends PeerMessage['type']>(
  connection: PeerConnection,
  type: T,
): Promise<Extract<PeerMessage, { type: T }>> {
  return waitForMessage(connection, (message) => message.type === type) as Promise<
    Extract<PeerMessage, { type: T }>
  >
}

/** The next message that `matches` (or the connection's close as a rejection). */
export function waitForMessage(
  connection: PeerConnection,
  matches: (message: PeerMessage) => boolean,
): Promise<PeerMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: PeerMessage) => {
      if (!matches(message)) return
      connection.off('message', onMessage)
      connection.off('close', onClose)
      resolve(message)
    }
    const onClose = (reason: Error | undefined) => {
      connection.off('message', onMessage)
      reject(reason ?? new Error('closed'))
    }
    connection.on('message', onMessage)
    connection.once('close', onClose)
  })
}

export function closed(connection: PeerConnection): Promise<Error | undefined> {
  if (connection.closed) return Promise.resolve(connection.closeReason)
  return new Promise((resolve) => connection.once('close', resolve))
}

/** Collects the bytes a raw socket receives and waits for a given amount. */
export class ByteSink {
  private chunks: Buffer[] = []
  private waiters: { length: number; resolve: () => void }[] = []

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk)
      const length = this.length
      this.waiters = this.waiters.filter((waiter) => {
        if (waiter.length > length) return true
        waiter.resolve()
        return false
      })
    })
  }

  get length(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.length, 0)
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks)
  }

  async atLeast(length: number): Promise<Buffer> {
    if (this.length < length) await new Promise<void>((resolve) => this.waiters.push({ length, resolve }))
    return this.bytes
  }
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Every message a connection emits from now on, and a way to wait for one: messages handled in one read
 * are emitted synchronously, so a waiter attached after an `await` may come too late for `nextMessage`.
 */
export class MessageLog {
  readonly messages: PeerMessage[] = []
  private waiters: { matches: (message: PeerMessage) => boolean; resolve: (message: PeerMessage) => void }[] =
    []

  constructor(private readonly connection: PeerConnection) {
    connection.on('message', (message) => {
      this.messages.push(message)
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.matches(message)) return true
        waiter.resolve(message)
        return false
      })
    })
  }

  /** The first logged message that matches, waiting for it if needed (rejects if the connection closes). */
  find<T extends PeerMessage['type']>(type: T): Promise<Extract<PeerMessage, { type: T }>>
  find(matches: (message: PeerMessage) => boolean): Promise<PeerMessage>
  find(what: string | ((message: PeerMessage) => boolean)): Promise<PeerMessage> {
    const matches = typeof what === 'string' ? (message: PeerMessage) => message.type === what : what
    const found = this.messages.find(matches)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      this.waiters.push({ matches, resolve })
      this.connection.once('close', (reason) => reject(reason ?? new Error('closed')))
    })
  }
}

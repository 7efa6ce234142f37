// Dialling one peer: over uTP first when the client has a uTP socket (as libtorrent does: a peer is
// assumed to speak uTP until a SYN goes unanswered, then it is dialled over TCP and remembered so),
// then under the encryption policy: the MSE handshake carrying our BitTorrent handshake as its initial
// payload (one round trip saved) and peer-wire over the stream it gives, or plain peer-wire. Failures
// keep peer-wire's classes (connect vs handshake) so the swarm's back-off and its "all peers
// unreachable" report read them as before; an MSE-level failure keeps its own class.
import { isIP, connect as netConnect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { initiate } from '@bt/mse'
import type { PeerAddress } from '@bt/peer-address'
import {
  openPeer,
  ourHandshake,
  type PeerConnection,
  PeerConnectionError,
  type PeerConnectionInit,
  PeerTimeoutError,
} from '@bt/peer-wire'
import type { UtpSocket } from '@bt/utp'
import { type EncryptionPolicy, fallsBackToPlaintext, outgoingMethods } from './encryption-policy.js'

/** How a connection reached its peer. */
export type PeerTransport = 'tcp' | 'utp'

/**
 * How long a uTP SYN waits for an answer when the peer is not known to speak uTP: a peer without uTP
 * (libtorrent with it off) never answers, so this is a timeout, not a refusal.
 */
export const UTP_FIRST_CONNECT_TIMEOUT_MS = 3000

/**
 * The head start uTP gets before TCP is dialled too, for a peer whose transport is unknown: whichever
 * connects first is used and the other dropped. libtorrent waits the whole uTP timeout (3 s) before it
 * tries TCP; a TCP-only peer costs us this instead.
 */
export const UTP_HEAD_START_MS = 250

export interface DialPeerOptions {
  encryption: EncryptionPolicy
  /** This peer answered a plain handshake after an MSE one failed: dial it plain. */
  plaintextKnown: boolean
  signal: AbortSignal
  connectTimeoutMs: number
  handshakeTimeoutMs: number
  /** The client's uTP socket: the peer is dialled over uTP first, unless known to be TCP-only. */
  utp?: UtpSocket | undefined
  /** What reached this peer before (or what it reached us over). */
  transportKnown?: PeerTransport | undefined
  /** The uTP connect timeout while `transportKnown` is not `utp`. Default `UTP_FIRST_CONNECT_TIMEOUT_MS`. */
  utpConnectTimeoutMs?: number | undefined
}

export interface DialedPeer {
  conn: PeerConnection
  /** An MSE dial failed and the plain one that followed worked (prefer): remember the peer. */
  fellBack: boolean
  transport: PeerTransport
}

export async function dialPeer(
  address: PeerAddress,
  init: PeerConnectionInit,
  options: DialPeerOptions,
): Promise<DialedPeer> {
  options.signal.throwIfAborted()
  const utp = options.utp
  const tcp = () => connectTcp(address, options)
  if (utp === undefined || options.transportKnown === 'tcp' || !sameFamily(utp, address.host)) {
    return { ...(await handshake(await tcp(), tcp, address, init, options)), transport: 'tcp' }
  }
  if (options.transportKnown === 'utp') {
    const connect = () => connectUtp(utp, address, options.signal, options.connectTimeoutMs)
    return { ...(await handshake(await connect(), connect, address, init, options)), transport: 'utp' }
  }
  // Unknown: uTP first, TCP after the head start (or at once when uTP fails); the plaintext retry of
  // MSE reconnects over whichever won.
  const timeoutMs = Math.min(
    options.utpConnectTimeoutMs ?? UTP_FIRST_CONNECT_TIMEOUT_MS,
    options.connectTimeoutMs,
  )
  const won = await connectEither(utp, address, options, timeoutMs)
  const again =
    won.transport === 'utp' ? () => connectUtp(utp, address, options.signal, options.connectTimeoutMs) : tcp
  return { ...(await handshake(won.stream, again, address, init, options)), transport: won.transport }
}

/**
 * uTP and TCP to one peer, TCP `UTP_HEAD_START_MS` later: the first transport to connect, the other
 * aborted (or closed, if it connects anyway). Both failing rejects with TCP's failure, the one a peer
 * without uTP is judged by.
 */
function connectEither(
  utp: UtpSocket,
  address: PeerAddress,
  options: DialPeerOptions,
  utpTimeoutMs: number,
): Promise<{ stream: Duplex; transport: PeerTransport }> {
  const utpAbort = new AbortController()
  const tcpAbort = new AbortController()
  const onAbort = () => {
    utpAbort.abort(options.signal.reason)
    tcpAbort.abort(options.signal.reason)
  }
  options.signal.addEventListener('abort', onAbort, { once: true })
  return new Promise((resolve, reject) => {
    let settled = false
    let utpFailure: unknown
    let tcpFailure: unknown
    let tcpStarted = false
    let pending = 1
    const finish = () => {
      clearTimeout(headStart)
      options.signal.removeEventListener('abort', onAbort)
    }
    const won = (stream: Duplex, transport: PeerTransport) => {
      if (settled) {
        stream.destroy()
        return
      }
      settled = true
      finish()
      ;(transport === 'utp' ? tcpAbort : utpAbort).abort(new Error(`connected over ${transport}`))
      resolve({ stream, transport })
    }
    const failed = () => {
      if (--pending > 0 || settled) return
      settled = true
      finish()
      reject(options.signal.aborted ? options.signal.reason : (tcpFailure ?? utpFailure))
    }
    const startTcp = () => {
      // Not after a stop: connectTcp would throw at once, out of the handler that called this.
      if (tcpStarted || settled || tcpAbort.signal.aborted) return
      tcpStarted = true
      pending++
      connectTcp(address, { ...options, signal: tcpAbort.signal }).then(
        (socket) => won(socket, 'tcp'),
        (error: unknown) => {
          tcpFailure = error
          failed()
        },
      )
    }
    const headStart = setTimeout(startTcp, UTP_HEAD_START_MS)
    connectUtp(utp, address, utpAbort.signal, utpTimeoutMs).then(
      (stream) => won(stream, 'utp'),
      (error: unknown) => {
        utpFailure = error
        // A refusal or silence sends us to TCP at once; `failed` waits for TCP if it is under way.
        startTcp()
        failed()
      },
    )
  })
}

/** The handshakes over a connected `stream`; `reconnect` gives a fresh one for a plaintext retry. */
async function handshake(
  stream: Duplex,
  reconnect: () => Promise<Duplex>,
  address: PeerAddress,
  init: PeerConnectionInit,
  options: DialPeerOptions,
): Promise<{ conn: PeerConnection; fellBack: boolean }> {
  const plain = (plainStream: Duplex) =>
    openPeer(plainStream, address, init, {
      signal: options.signal,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
    })
  const methods = options.plaintextKnown ? undefined : outgoingMethods(options.encryption)
  if (methods === undefined) return { conn: await plain(stream), fellBack: false }
  let encrypted: Duplex
  try {
    const mse = await initiate(
      stream,
      { infoHash: init.infoHash, methods, initialPayload: ourHandshake(init) },
      { signal: options.signal, timeoutMs: options.handshakeTimeoutMs },
    )
    encrypted = mse.stream
  } catch (error) {
    // A peer that took the connection and then failed MSE gets a plain try; one that spoke MSE and
    // then failed the BitTorrent handshake inside it (ourselves, another torrent) would fail it again.
    if (!fallsBackToPlaintext(options.encryption) || options.signal.aborted) throw error
    return { conn: await plain(await reconnect()), fellBack: true }
  }
  const conn = await openPeer(encrypted, address, init, {
    signal: options.signal,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    handshakeSent: true,
  })
  return { conn, fellBack: false }
}

/** A uTP socket binds one address family; peers of the other are dialled over TCP. */
function sameFamily(utp: UtpSocket, host: string): boolean {
  const family = isIP(host)
  return family === 0 || family === (utp.address().family === 'IPv6' ? 6 : 4)
}

/** A uTP connect, its failures in peer-wire's connect classes (so the swarm reads them as TCP's). */
async function connectUtp(
  utp: UtpSocket,
  address: PeerAddress,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Duplex> {
  try {
    const connection = await utp.connect(address.port, address.host, { signal, timeoutMs })
    // Its failures reach whoever reads it (MSE, peer-wire); one destroyed with a reason after they let
    // go of it (a torrent stopping) must not throw out of the event loop.
    connection.on('error', () => {})
    return connection
  } catch (error) {
    if (signal.aborted) throw signal.reason
    if (error instanceof Error && error.name === 'UtpConnectTimeoutError') {
      throw new PeerTimeoutError('connect', timeoutMs)
    }
    const detail = error instanceof Error ? error.message : String(error)
    throw new PeerConnectionError(
      `could not connect to ${address.host}:${address.port} over uTP: ${detail}`,
      { cause: error },
    )
  }
}

function connectTcp(address: PeerAddress, options: DialPeerOptions): Promise<Socket> {
  options.signal.throwIfAborted()
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: address.host, port: address.port, noDelay: true })
    const timer = setTimeout(
      () => fail(new PeerTimeoutError('connect', options.connectTimeoutMs)),
      options.connectTimeoutMs,
    )
    const onError = (error: Error) =>
      fail(
        new PeerConnectionError(`could not connect to ${address.host}:${address.port}: ${error.message}`, {
          cause: error,
        }),
      )
    const onAbort = () => fail(options.signal.reason)
    const cleanup = () => {
      clearTimeout(timer)
      socket.off('error', onError)
      socket.off('connect', onConnect)
      options.signal.removeEventListener('abort', onAbort)
    }
    const fail = (reason: unknown) => {
      cleanup()
      socket.on('error', () => {})
      socket.destroy()
      reject(reason)
    }
    const onConnect = () => {
      cleanup()
      resolve(socket)
    }
    socket.once('connect', onConnect)
    socket.once('error', onError)
    options.signal.addEventListener('abort', onAbort, { once: true })
  })
}

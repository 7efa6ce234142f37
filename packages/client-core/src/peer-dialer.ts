// Dialling one peer under the encryption policy: TCP, then the MSE handshake carrying our BitTorrent
// handshake as its initial payload (one round trip saved), then peer-wire over the stream it gives; or a
// plain peer-wire dial. Failures keep peer-wire's classes (connect vs handshake) so the swarm's back-off
// and its "all peers unreachable" report read them as before; an MSE-level failure keeps its own class.
import { connect as netConnect, type Socket } from 'node:net'
import { initiate } from '@bt/mse'
import type { PeerAddress } from '@bt/peer-address'
import {
  connectPeer,
  encodeHandshake,
  openPeer,
  type PeerConnection,
  PeerConnectionError,
  type PeerConnectionInit,
  PeerTimeoutError,
  reservedBytes,
} from '@bt/peer-wire'
import { type EncryptionPolicy, fallsBackToPlaintext, outgoingMethods } from './encryption-policy.js'

export interface DialPeerOptions {
  encryption: EncryptionPolicy
  /** This peer answered a plain handshake after an MSE one failed: dial it plain. */
  plaintextKnown: boolean
  signal: AbortSignal
  connectTimeoutMs: number
  handshakeTimeoutMs: number
}

export interface DialedPeer {
  conn: PeerConnection
  /** An MSE dial failed and the plain one that followed worked (prefer): remember the peer. */
  fellBack: boolean
}

export async function dialPeer(
  address: PeerAddress,
  init: PeerConnectionInit,
  options: DialPeerOptions,
): Promise<DialedPeer> {
  const methods = options.plaintextKnown ? undefined : outgoingMethods(options.encryption)
  if (methods === undefined) return { conn: await dialPlain(address, init, options), fellBack: false }
  try {
    const socket = await connectTcp(address, options)
    const handshake = encodeHandshake({
      reserved: init.reserved ?? reservedBytes({ extended: true, fast: true }),
      infoHash: init.infoHash,
      peerId: init.peerId,
    })
    const { stream } = await initiate(
      socket,
      { infoHash: init.infoHash, methods, initialPayload: handshake },
      { signal: options.signal, timeoutMs: options.handshakeTimeoutMs },
    )
    const conn = await openPeer(stream, address, init, {
      signal: options.signal,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      handshakeSent: true,
    })
    return { conn, fellBack: false }
  } catch (error) {
    // Only a peer that took the TCP connection and then refused MSE gets a plain try.
    if (!fallsBackToPlaintext(options.encryption) || options.signal.aborted || !reachedPeer(error))
      throw error
    return { conn: await dialPlain(address, init, options), fellBack: true }
  }
}

function dialPlain(address: PeerAddress, init: PeerConnectionInit, options: DialPeerOptions) {
  return connectPeer(address, init, {
    signal: options.signal,
    connectTimeoutMs: options.connectTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
  })
}

/** False for failures before TCP connected (refused, unreachable, connect timeout). */
function reachedPeer(error: unknown): boolean {
  if (error instanceof PeerTimeoutError) return error.phase !== 'connect'
  return !(error instanceof TcpConnectError)
}

/** TCP did not connect; a `PeerConnectionError`, so it reads as a connect failure. */
class TcpConnectError extends PeerConnectionError {}

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
        new TcpConnectError(`could not connect to ${address.host}:${address.port}: ${error.message}`, {
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

// Dialling one peer under the encryption policy: TCP, then the MSE handshake carrying our BitTorrent
// handshake as its initial payload (one round trip saved), then peer-wire over the stream it gives; or a
// plain peer-wire dial. Failures keep peer-wire's classes (connect vs handshake) so the swarm's back-off
// and its "all peers unreachable" report read them as before; an MSE-level failure keeps its own class.
import { connect as netConnect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { initiate } from '@bt/mse'
import type { PeerAddress } from '@bt/peer-address'
import {
  connectPeer,
  openPeer,
  ourHandshake,
  type PeerConnection,
  PeerConnectionError,
  type PeerConnectionInit,
  PeerTimeoutError,
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
  const socket = await connectTcp(address, options)
  let stream: Duplex
  try {
    const mse = await initiate(
      socket,
      { infoHash: init.infoHash, methods, initialPayload: ourHandshake(init) },
      { signal: options.signal, timeoutMs: options.handshakeTimeoutMs },
    )
    stream = mse.stream
  } catch (error) {
    // A peer that took the TCP connection and then failed MSE gets a plain try; one that spoke MSE and
    // then failed the BitTorrent handshake inside it (ourselves, another torrent) would fail it again.
    if (!fallsBackToPlaintext(options.encryption) || options.signal.aborted) throw error
    return { conn: await dialPlain(address, init, options), fellBack: true }
  }
  const conn = await openPeer(stream, address, init, {
    signal: options.signal,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    handshakeSent: true,
  })
  return { conn, fellBack: false }
}

function dialPlain(address: PeerAddress, init: PeerConnectionInit, options: DialPeerOptions) {
  return connectPeer(address, init, {
    signal: options.signal,
    connectTimeoutMs: options.connectTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
  })
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

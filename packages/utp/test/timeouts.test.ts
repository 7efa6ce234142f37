// Connections that stop hearing from their peer: an idle one kept alive by keepalives, a vanished peer
// detected by the idle limit, a peer that stops acking given up after bounded retransmissions. The
// silent peer is a raw UDP socket that answers our SYN by hand and then says nothing.
import { createSocket, type Socket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import { createUtpSocket, type UtpSocketInit, UtpTimeoutError } from '../src/index.js'
import {
  createPacket,
  decodePacket,
  EXTENSION_NONE,
  HEADER_SIZE,
  ST_STATE,
  ST_SYN,
  writeHeader,
} from '../src/packet.js'
import { connectPair, socketPair, withTimeout } from './helpers.js'

const US = '127.0.50.40'
const PEER = '127.0.50.41'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Accepts one SYN with a STATE (as BEP 29's acceptor does), then never sends again. */
async function silentPeer(): Promise<Socket> {
  const udp = createSocket('udp4')
  await new Promise<void>((resolve) => udp.bind(0, PEER, resolve))
  cleanups.push(() => new Promise((resolve) => udp.close(() => resolve())))
  const p = createPacket()
  let answered = false
  udp.on('message', (datagram, remote) => {
    if (answered || !decodePacket(datagram, p) || p.type !== ST_SYN) return
    answered = true
    const state = Buffer.alloc(HEADER_SIZE)
    writeHeader(state, 0, ST_STATE, EXTENSION_NONE, p.connectionId, 0, 0, 1 << 20, 4242, p.seq)
    udp.send(state, remote.port, remote.address)
  })
  return udp
}

async function us(init: UtpSocketInit) {
  const socket = await createUtpSocket({ host: US, ...init })
  cleanups.push(() => socket.close())
  return socket
}

describe('uTP timeouts', () => {
  it('fails a connection whose peer vanished once the idle limit passes', async () => {
    const peer = await silentPeer()
    const socket = await us({ idleTimeoutMs: 1500 })
    const connection = await socket.connect(peer.address().port, PEER)
    const failed = new Promise<Error>((resolve) => connection.once('error', resolve))
    const error = await withTimeout(failed, 5000, 'idle timeout')
    expect(error).toBeInstanceOf(UtpTimeoutError)
    expect((error as UtpTimeoutError).reason).toBe('idle')
  })

  it('keeps an idle connection between live peers open with keepalives', async () => {
    const { a, b, close } = await socketPair(US, PEER, { idleTimeoutMs: 1200 })
    cleanups.push(close)
    const [client, server] = await connectPair(a, b)
    const errors: Error[] = []
    client.on('error', (e) => errors.push(e))
    server.on('error', (e) => errors.push(e))
    await new Promise((resolve) => setTimeout(resolve, 3000))
    expect(errors).toEqual([])
    expect(client.destroyed || server.destroyed).toBe(false)
    const got = new Promise<Buffer>((resolve) => server.once('data', resolve))
    client.write('still here')
    expect((await withTimeout(got, 2000, 'data after idling')).toString()).toBe('still here')
  })

  it('gives up after a bounded number of retransmission timeouts when the peer stops acking', async () => {
    const peer = await silentPeer()
    const socket = await us({ minRtoMs: 100, maxTimeouts: 3 })
    const connection = await socket.connect(peer.address().port, PEER)
    const failed = new Promise<Error>((resolve) => connection.once('error', resolve))
    connection.write(Buffer.alloc(10_000))
    const error = await withTimeout(failed, 10_000, 'retransmission give-up')
    expect(error).toBeInstanceOf(UtpTimeoutError)
    expect((error as UtpTimeoutError).reason).toBe('retransmissions')
    expect(socket.connectionCount).toBe(0)
  })
})

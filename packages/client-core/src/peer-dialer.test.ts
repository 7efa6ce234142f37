// dialPeer's policy decisions against listeners of each kind: a plain-only peer (acceptPeer) is reached
// with `prefer` by the fallback, which the result reports so the swarm remembers it; `require` never
// falls back; a refused TCP connect is not retried plain.
import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { accept } from '@bt/mse'
import { acceptPeer, type PeerConnection, type PeerConnectionInit } from '@bt/peer-wire'
import { createUtpSocket, type UtpSocket } from '@bt/utp'
import { afterEach, describe, expect, it } from 'vitest'
import type { EncryptionPolicy } from './encryption-policy.js'
import { dialPeer } from './peer-dialer.js'
import { dialFailure } from './swarm.js'

const INFO_HASH = randomBytes(20)
const servers: Server[] = []
const conns: PeerConnection[] = []
const utpSockets: UtpSocket[] = []
afterEach(async () => {
  for (const conn of conns.splice(0)) conn.close()
  await Promise.all(utpSockets.splice(0).map((socket) => socket.close()))
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

function init(): PeerConnectionInit {
  return { infoHash: INFO_HASH, peerId: Uint8Array.from([...Buffer.from('-BT0001-'), ...randomBytes(12)]) }
}

/** A listener that speaks plain BitTorrent only, or MSE (any method) first. */
async function peer(host: string, kind: 'plain' | 'mse'): Promise<{ host: string; port: number }> {
  const server = createServer(async (socket) => {
    socket.on('error', () => {})
    try {
      const stream =
        kind === 'plain'
          ? socket
          : (await accept(socket, { findInfoHash: () => INFO_HASH, allowPlaintext: false })).stream
      const remoteAddress = { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }
      conns.push(await acceptPeer(stream, { findTorrent: () => init() }, { remoteAddress }))
    } catch {}
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return { host, port: (server.address() as AddressInfo).port }
}

function dial(address: { host: string; port: number }, encryption: EncryptionPolicy, plaintextKnown = false) {
  return dialPeer(address, init(), {
    encryption,
    plaintextKnown,
    signal: new AbortController().signal,
    connectTimeoutMs: 3000,
    handshakeTimeoutMs: 3000,
  }).then((dialed) => {
    conns.push(dialed.conn)
    return dialed
  })
}

describe('dialPeer', () => {
  it('prefer: MSE with an MSE peer, a remembered fallback with a plain one', async () => {
    expect((await dial(await peer('127.0.40.50', 'mse'), 'prefer')).fellBack).toBe(false)
    const plain = await peer('127.0.40.51', 'plain')
    expect((await dial(plain, 'prefer')).fellBack).toBe(true)
    // Known plain: dialled plain at once, no fallback to report.
    expect((await dial(plain, 'prefer', true)).fellBack).toBe(false)
  })

  it('prefer: a peer that speaks MSE and then refuses the torrent is not retried plain', async () => {
    let connections = 0
    const server = createServer(async (socket) => {
      connections++
      socket.on('error', () => {})
      const accepted = await accept(socket, { findInfoHash: () => INFO_HASH }).catch(() => undefined)
      if (accepted === undefined) return
      const remoteAddress = { host: '127.0.40.56', port: 1 }
      await acceptPeer(accepted.stream, { findTorrent: () => undefined }, { remoteAddress }).catch(() => {})
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.40.55', resolve))
    const port = (server.address() as AddressInfo).port
    await expect(dial({ host: '127.0.40.55', port }, 'prefer')).rejects.toThrow()
    expect(connections).toBe(1)
  })

  it('require: a plain peer fails as a handshake failure, never retried plain', async () => {
    const error = await dial(await peer('127.0.40.52', 'plain'), 'require').catch((e: unknown) => e)
    expect((error as Error).name).toMatch(/^Mse/)
    expect(dialFailure(error)).toBe('handshake')
  })

  it('off and allow dial plain: an MSE-only peer refuses them', async () => {
    const mseOnly = await peer('127.0.40.53', 'mse')
    for (const policy of ['off', 'allow'] as const) {
      const error = await dial(mseOnly, policy).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
    }
  })

  it('a refused TCP connection is a connect failure, with no plain retry', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.40.54', resolve))
    const port = (server.address() as AddressInfo).port
    await new Promise((resolve) => server.close(resolve))
    const error = await dial({ host: '127.0.40.54', port }, 'prefer').catch((e: unknown) => e)
    expect(dialFailure(error)).toBe('connect')
  })

  it('uTP first: a refusing uTP port (RESET) sends the dial to TCP; both failing is a connect failure', async () => {
    const tcpPeer = await peer('127.0.60.50', 'plain')
    // The peer's UDP port speaks uTP but refuses every SYN.
    const refusing = await createUtpSocket({ host: '127.0.60.50', port: tcpPeer.port, acceptIncoming: false })
    utpSockets.push(refusing)
    const ours = await createUtpSocket({ host: '127.0.60.51' })
    utpSockets.push(ours)
    const options = {
      encryption: 'off' as const,
      plaintextKnown: false,
      signal: new AbortController().signal,
      connectTimeoutMs: 3000,
      handshakeTimeoutMs: 3000,
      utp: ours,
    }
    const dialed = await dialPeer(tcpPeer, init(), options)
    conns.push(dialed.conn)
    expect(dialed.transport).toBe('tcp')
    // Nothing on either transport: the TCP refusal is what the swarm sees, a connect failure.
    for (const conn of conns.splice(0)) conn.close()
    await new Promise((resolve) => servers.splice(0)[0]!.close(resolve))
    const error = await dialPeer(tcpPeer, init(), options).catch((e: unknown) => e)
    expect(dialFailure(error)).toBe('connect')
  })

  it('uTP first: a silent UDP port (no uTP at all) does not hold the dial for the uTP timeout', async () => {
    const tcpPeer = await peer('127.0.60.54', 'plain')
    const ours = await createUtpSocket({ host: '127.0.60.55' })
    utpSockets.push(ours)
    const dialed = await dialPeer(tcpPeer, init(), {
      encryption: 'off',
      plaintextKnown: false,
      signal: new AbortController().signal,
      // Without the race TCP would wait this long: the dial would outlast the test's 20 s.
      connectTimeoutMs: 60_000,
      utpConnectTimeoutMs: 60_000,
      handshakeTimeoutMs: 3000,
      utp: ours,
    })
    conns.push(dialed.conn)
    expect(dialed.transport).toBe('tcp')
    // The losing uTP attempt was dropped, not left to linger.
    expect(ours.connectionCount).toBe(0)
  }, 20_000)

  it('uTP first: a dial stopped during the uTP head start rejects with the stop, and nothing is left unhandled', async () => {
    const tcpPeer = await peer('127.0.60.56', 'plain')
    const ours = await createUtpSocket({ host: '127.0.60.57' })
    utpSockets.push(ours)
    for (const stopAfterMs of [0, 50, 400]) {
      const controller = new AbortController()
      const stop = new Error('stopped')
      const dialing = dialPeer(tcpPeer, init(), {
        encryption: 'off',
        plaintextKnown: false,
        signal: controller.signal,
        connectTimeoutMs: 3000,
        handshakeTimeoutMs: 3000,
        utp: ours,
      })
      setTimeout(() => controller.abort(stop), stopAfterMs)
      const outcome = await dialing.then(
        (dialed) => {
          conns.push(dialed.conn)
          return 'connected'
        },
        (error: unknown) => error,
      )
      // Past the head start TCP may have won before the stop; before it, the stop is the answer.
      if (stopAfterMs < 250) expect(outcome).toBe(stop)
    }
    expect(ours.connectionCount).toBe(0)
  })

  it('uTP first: a uTP peer is reached over uTP, MSE inside', async () => {
    const listener = await createUtpSocket({ host: '127.0.60.52' })
    utpSockets.push(listener)
    listener.on('connection', async (connection) => {
      connection.on('error', () => {})
      try {
        const { stream } = await accept(connection, { findInfoHash: () => INFO_HASH, allowPlaintext: false })
        const remoteAddress = { host: connection.remoteAddress, port: connection.remotePort }
        conns.push(await acceptPeer(stream, { findTorrent: () => init() }, { remoteAddress }))
      } catch {}
    })
    const ours = await createUtpSocket({ host: '127.0.60.53' })
    utpSockets.push(ours)
    const dialed = await dialPeer({ host: '127.0.60.52', port: listener.address().port }, init(), {
      encryption: 'require',
      plaintextKnown: false,
      signal: new AbortController().signal,
      connectTimeoutMs: 3000,
      handshakeTimeoutMs: 3000,
      utp: ours,
    })
    conns.push(dialed.conn)
    expect(dialed).toMatchObject({ transport: 'utp', fellBack: false })
    expect(ours.connectionCount).toBe(1)
  })
})

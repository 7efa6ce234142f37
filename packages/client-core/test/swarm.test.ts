// The swarm's accounting on real loopback connections: dials and accepts under the budget, slots given
// back on close, bans by IP across swarms, rotation of useless peers, and the report of a swarm whose
// peers all fail.
import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { acceptPeer, connectPeer, type PeerConnection } from '@bt/peer-wire'
import { afterEach, describe, expect, it } from 'vitest'
import type { Alert } from '../src/alerts.js'
import { BanList } from '../src/ban-list.js'
import { createConnectionBudget } from '../src/connection-budget.js'
import { Swarm, type SwarmPeer } from '../src/swarm.js'

const infoHash = randomBytes(20)
const peerInit = () => ({ infoHash, peerId: randomBytes(20), pieceCount: 4 })

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A peer listening on `host` that answers every handshake for `infoHash` and keeps the connection. */
async function startPeer(
  host: string,
): Promise<{ address: { host: string; port: number }; conns: PeerConnection[] }> {
  const conns: PeerConnection[] = []
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    acceptPeer(socket, { findTorrent: () => peerInit() }).then(
      (conn) => conns.push(conn),
      () => {},
    )
  })
  await listen(server, host)
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy()
    return new Promise((resolve) => server.close(() => resolve()))
  })
  return { address: { host, port: (server.address() as AddressInfo).port }, conns }
}

/** A server on `host` that accepts TCP and hangs up on the handshake (as an encryption-only peer does). */
async function startHangUp(host: string): Promise<{ host: string; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => socket.destroy())
  })
  await listen(server, host)
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())))
  return { host, port: (server.address() as AddressInfo).port }
}

/** A listener on 127.0.0.1 that hands every incoming peer to `swarm` (the client's job); its port. */
async function listenFor(swarm: Swarm<SwarmPeer>): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => {})
    acceptPeer(socket, { findTorrent: () => peerInit() }).then(
      (conn) => swarm.accept(conn),
      () => {},
    )
  })
  await listen(server, '127.0.0.1')
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())))
  return (server.address() as AddressInfo).port
}

function listen(server: Server, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
}

interface TestSwarm {
  swarm: Swarm<SwarmPeer>
  alerts: Alert[]
  closed: SwarmPeer[]
  controller: AbortController
}

function makeSwarm(
  options: {
    max?: number
    parent?: ReturnType<typeof createConnectionBudget>
    bans?: BanList
    dropReason?: (session: SwarmPeer) => 'snubbed' | undefined
  } = {},
): TestSwarm & { budget: ReturnType<typeof createConnectionBudget> } {
  const alerts: Alert[] = []
  const closed: SwarmPeer[] = []
  const controller = new AbortController()
  const budget = createConnectionBudget(options.max ?? 10, options.parent)
  const swarm = new Swarm<SwarmPeer>({
    connectionInit: peerInit(),
    budget,
    bans: options.bans ?? new BanList(),
    signal: controller.signal,
    connectTimeoutMs: 2000,
    handshakeTimeoutMs: 2000,
    peerRetryDelayMs: 60_000,
    wantsPeers: () => true,
    createSession: (peer) => peer,
    sessionClosed: (session) => closed.push(session),
    alert: (alert) => alerts.push(alert),
    ...(options.dropReason ? { dropReason: options.dropReason } : {}),
  })
  cleanups.push(() => controller.abort())
  return { swarm, alerts, closed, controller, budget }
}

async function until(test: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Connects to nothing: a port on `host` that was free a moment ago. */
async function deadAddress(host: string): Promise<{ host: string; port: number }> {
  const server = createServer()
  await listen(server, host)
  const port = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return { host, port }
}

describe('Swarm', () => {
  it('dials no more than its budget and dials the next candidate when a slot frees up', async () => {
    const peers = await Promise.all(['127.0.0.21', '127.0.0.22', '127.0.0.23'].map(startPeer))
    const client = createConnectionBudget(100)
    const { swarm, budget, closed } = makeSwarm({ max: 2, parent: client })
    swarm.add(
      peers.map((peer) => peer.address),
      'manual',
    )
    await until(() => swarm.size === 2, 'two sessions')
    expect(budget.used).toBe(2)
    expect(client.used).toBe(2)
    const [first] = [...swarm.sessions()]
    first!.conn.close()
    await until(() => closed.length === 1 && swarm.size === 2, 'the third peer dialled')
    expect(budget.used).toBe(2)
    expect(new Set([...swarm.sessions()].map((session) => session.address.host)).size).toBe(2)
    expect(swarm.peers.size).toBe(3)
  })

  it('registers an incoming peer under the budget and forgets it when it leaves', async () => {
    const { swarm, budget, closed } = makeSwarm({ max: 1 })
    const port = await listenFor(swarm)
    const first = await connectPeer({ host: '127.0.0.1', port }, peerInit(), { localAddress: '127.0.0.31' })
    await until(() => swarm.size === 1, 'the incoming session')
    const [session] = [...swarm.sessions()]
    expect(session).toMatchObject({ incoming: true, address: { host: '127.0.0.31' } })
    expect(swarm.peers.size).toBe(1)
    expect(budget.used).toBe(1)
    // No slot left: a second peer is turned away.
    const second = await connectPeer({ host: '127.0.0.1', port }, peerInit(), { localAddress: '127.0.0.32' })
    await until(() => second.closed, 'the second peer closed')
    expect(swarm.size).toBe(1)
    first.close()
    await until(() => closed.length === 1, 'the session closed')
    expect(budget.used).toBe(0)
    expect(swarm.peers.size).toBe(0)
  })

  it('a ban is on the IP: every swarm sharing the ban list drops that address, other ports included', async () => {
    const bans = new BanList()
    const liarA = await startPeer('127.0.0.41')
    const liarB = await startPeer('127.0.0.41')
    const honest = await startPeer('127.0.0.42')
    const one = makeSwarm({ bans })
    const two = makeSwarm({ bans })
    one.swarm.add([liarA.address, honest.address], 'manual')
    two.swarm.add([liarB.address], 'manual')
    await until(() => one.swarm.size === 2 && two.swarm.size === 1, 'all sessions')
    const liarSession = [...one.swarm.sessions()].find((session) => session.address.host === '127.0.0.41')!
    one.swarm.ban(liarSession, 'corrupt-data', 'sent a corrupt block of piece 0')
    await until(() => one.swarm.size === 1 && two.swarm.size === 0, 'the liar closed in both swarms')
    expect([...one.swarm.sessions()][0]!.address).toEqual(honest.address)
    expect(one.alerts.filter((alert) => alert.type === 'peer-banned')).toEqual([
      {
        type: 'peer-banned',
        address: liarA.address,
        reason: 'corrupt-data',
        detail: 'sent a corrupt block of piece 0',
      },
    ])
    // Neither re-dialled nor re-added.
    expect(two.swarm.add([liarB.address, { host: '127.0.0.41', port: 1 }], 'pex')).toBe(0)
    expect(two.alerts.filter((alert) => alert.type === 'peer-disconnected')).toEqual([])
  })

  it('turns an incoming connection from a banned address away', async () => {
    const bans = new BanList()
    bans.ban('127.0.0.51')
    const { swarm } = makeSwarm({ bans })
    const port = await listenFor(swarm)
    const conn = await connectPeer({ host: '127.0.0.1', port }, peerInit(), { localAddress: '127.0.0.51' })
    await until(() => conn.closed, 'the banned peer closed')
    expect(swarm.size).toBe(0)
    expect(swarm.peers.size).toBe(0)
  })

  it('gives the slot of a peer its owner calls useless to a waiting candidate', async () => {
    const staller = await startPeer('127.0.0.61')
    const honest = await startPeer('127.0.0.62')
    const { swarm, alerts } = makeSwarm({
      max: 1,
      dropReason: (session) => (session.address.host === '127.0.0.61' ? 'snubbed' : undefined),
    })
    swarm.add([staller.address], 'manual')
    await until(() => swarm.size === 1, 'the staller connected')
    swarm.add([honest.address], 'manual')
    swarm.tick(Date.now())
    await until(
      () => swarm.size === 1 && [...swarm.sessions()][0]!.address.host === '127.0.0.62',
      'the honest peer connected in its place',
    )
    expect(alerts).toContainEqual(
      expect.objectContaining({ type: 'peer-dropped', address: staller.address, reason: 'snubbed' }),
    )
    // The honest peer is kept even with a candidate waiting.
    swarm.add([(await startPeer('127.0.0.63')).address], 'manual')
    swarm.tick(Date.now())
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect([...swarm.sessions()].map((session) => session.address.host)).toEqual(['127.0.0.62'])
  })

  it('says so once when every known peer fails, and how', async () => {
    const { swarm, alerts } = makeSwarm()
    swarm.add(
      [await startHangUp('127.0.0.71'), await startHangUp('127.0.0.72'), await deadAddress('127.0.0.73')],
      'manual',
    )
    await until(() => alerts.some((alert) => alert.type === 'peers-unreachable'), 'the report')
    expect(alerts.filter((alert) => alert.type === 'peers-unreachable')).toEqual([
      {
        type: 'peers-unreachable',
        known: 3,
        failures: { connect: 1, handshake: 2, protocol: 0 },
        encryption: 'prefer',
      },
    ])
  })
})

// Peer exchange between real connections on loopback: a hub that some peers dialled (and that dialled
// one) tells each of them about the others over `ut_pex`, and a receiver's rate limit and caps hold
// against messages that really crossed a socket.
import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { type PeerAddress, parsePeerAddress } from '@bt/peer-address'
import {
  acceptPeer,
  connectPeer,
  createExtensionRegistry,
  type ExtendedHandshakeInit,
  type PeerConnection,
  type PeerConnectionInit,
} from '@bt/peer-wire'
import { afterEach, describe, expect, it } from 'vitest'
import {
  decodePexMessage,
  encodePexMessage,
  PeerExchange,
  PexFlags,
  type PexMessage,
  PexMessageError,
  UT_PEX,
} from '../src/index.js'

const INFO_HASH = new Uint8Array(randomBytes(20))
const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function peerId(): Uint8Array {
  return Uint8Array.from([...Buffer.from('-BT0001-'), ...randomBytes(12)])
}

/** A listening socket on 127.0.0.1 whose accepted connections go to `onConnection`. */
async function listen(
  init: Omit<PeerConnectionInit, 'infoHash'>,
  onConnection: (conn: PeerConnection) => void,
) {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    acceptPeer(socket, { findTorrent: () => init }).then(onConnection, () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  return (server.address() as AddressInfo).port
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** The readable `ut_pex` messages a connection receives, decoded. */
function pexLog(conn: PeerConnection): PexMessage[] {
  const messages: PexMessage[] = []
  conn.on('message', (message) => {
    if (message.type !== 'extended' || message.name !== UT_PEX) return
    try {
      messages.push(decodePexMessage(message.payload))
    } catch (error) {
      if (!(error instanceof PexMessageError)) throw error
    }
  })
  return messages
}

interface Peer {
  readonly id: Uint8Array
  /** The peer's end of its connection to the hub. */
  readonly conn: PeerConnection
  readonly pex: PeerExchange
  readonly learned: PeerAddress[][]
  readonly messages: PexMessage[]
}

/** Takes every message (`minReceiveIntervalMs: 0`): these tests drive the sender's clock, not the receiver's. */
function peerExchange(learned: PeerAddress[][]): PeerExchange {
  return new PeerExchange({ onPeers: (peers) => learned.push(peers), minReceiveIntervalMs: 0 })
}

/** A hub with a `PeerExchange`, accepting peers; `hubSide` finds its end of a peer's connection. */
async function startHub() {
  const learned: PeerAddress[][] = []
  const pex = peerExchange(learned)
  const init = { peerId: peerId(), pieceCount: 4, extensions: createExtensionRegistry([pex.extension]) }
  const incoming: PeerConnection[] = []
  const port = await listen(init, (conn) => {
    incoming.push(conn)
    cleanups.push(() => conn.close())
  })
  const equal = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))
  return {
    pex,
    init,
    port,
    learned,
    hubSide(peer: Peer): PeerConnection {
      const conn = incoming.find((candidate) => equal(candidate.remotePeerId, peer.id))
      if (conn === undefined) throw new Error('the hub has no connection from this peer')
      return conn
    },
    async waitForHandshakes(peers: readonly Peer[]) {
      await until(
        () =>
          peers.every((peer) => incoming.some((c) => equal(c.remotePeerId, peer.id) && c.extendedHandshake)),
        'the hub to see every extended handshake',
      )
      await until(
        () => peers.every((peer) => peer.conn.extendedHandshake !== undefined),
        'the hub handshakes',
      )
    },
  }
}

type Hub = Awaited<ReturnType<typeof startHub>>

/** A peer that dials the hub; `withPex: false` leaves `ut_pex` out of its extended handshake. */
async function dialHub(
  hub: Hub,
  options: { listenPort?: number; withPex?: boolean; pex?: PeerExchange } = {},
): Promise<Peer> {
  const learned: PeerAddress[][] = []
  const pex = options.pex ?? peerExchange(learned)
  const id = peerId()
  const extendedHandshake: ExtendedHandshakeInit = { listenPort: options.listenPort }
  const conn = await connectPeer(
    { host: '127.0.0.1', port: hub.port },
    {
      infoHash: INFO_HASH,
      peerId: id,
      pieceCount: 4,
      extensions: createExtensionRegistry(options.withPex === false ? [] : [pex.extension]),
      extendedHandshake,
    },
  )
  cleanups.push(() => conn.close())
  return { id, conn, pex, learned, messages: pexLog(conn) }
}

/** A peer the hub dials: it listens, and its end is the accepted connection. */
async function hubDials(hub: Hub): Promise<{ peer: Peer; hubSide: PeerConnection; port: number }> {
  const learned: PeerAddress[][] = []
  const pex = peerExchange(learned)
  const id = peerId()
  let accepted: PeerConnection | undefined
  const port = await listen(
    { peerId: id, pieceCount: 4, extensions: createExtensionRegistry([pex.extension]) },
    (conn) => {
      accepted = conn
      cleanups.push(() => conn.close())
    },
  )
  const hubSide = await connectPeer({ host: '127.0.0.1', port }, { ...hub.init, infoHash: INFO_HASH })
  cleanups.push(() => hubSide.close())
  await until(() => accepted !== undefined, 'the dialled peer to accept')
  const conn = accepted!
  return { peer: { id, conn, pex, learned, messages: pexLog(conn) }, hubSide, port }
}

const at = (host: string, port: number): PeerAddress => ({ host, port })

describe('ut_pex between real connections', () => {
  it("tells each peer the others' listen addresses: never its own, never an unknown port", async () => {
    const hub = await startHub()
    const a = await dialHub(hub, { listenPort: 7001 })
    const b = await dialHub(hub, { listenPort: 7002 })
    // No listen port: its address is its source port, where nobody can connect.
    const c = await dialHub(hub)
    // Shareable, but it does not speak ut_pex: it gets no message.
    const e = await dialHub(hub, { listenPort: 7005, withPex: false })
    // Two more connections to d (which d dialled): the torrent knows they listen where d does.
    const f = await dialHub(hub)
    const g = await dialHub(hub)
    const dialled = await hubDials(hub)
    const d = dialled.peer
    await hub.waitForHandshakes([a, b, c, e, f, g])
    await until(
      () => d.conn.extendedHandshake !== undefined && dialled.hubSide.extendedHandshake !== undefined,
      'the extended handshakes between the hub and d',
    )

    // b has every piece: a seed.
    b.conn.haveAll()
    await until(() => hub.hubSide(b).peerPieces?.complete === true, "the hub to see b's pieces")

    const dAddress = at('127.0.0.1', dialled.port)
    const connected = [
      ...[a, b, c].map((peer) => ({ conn: hub.hubSide(peer) })),
      // e reached the hub over uTP (as far as the hub's torrent knows).
      { conn: hub.hubSide(e), utp: true },
      { conn: hub.hubSide(f), address: dAddress },
      { conn: dialled.hubSide },
      { conn: hub.hubSide(g), address: dAddress },
    ]
    hub.pex.tick(connected, 0)

    await until(
      () => [a, b, c, d, f, g].every((peer) => peer.learned.length === 1),
      'every pex peer to learn',
    )
    expect(a.learned[0]).toEqual([at('127.0.0.1', 7002), at('127.0.0.1', 7005), dAddress])
    expect(b.learned[0]).toEqual([at('127.0.0.1', 7001), at('127.0.0.1', 7005), dAddress])
    expect(c.learned[0]).toEqual([
      at('127.0.0.1', 7001),
      at('127.0.0.1', 7002),
      at('127.0.0.1', 7005),
      dAddress,
    ])
    expect(d.learned[0]).toEqual([at('127.0.0.1', 7001), at('127.0.0.1', 7002), at('127.0.0.1', 7005)])
    // d accepts connections (the hub dialled it), though its other connections (f, g) came in.
    expect(a.messages[0]?.addedFlags).toEqual([PexFlags.seed, PexFlags.utp, PexFlags.reachable])
    for (const sameAsD of [f, g]) expect(sameAsD.learned).toEqual(d.learned)
    expect(hub.pex.stats.messagesSent).toBe(6)
    expect(e.messages).toEqual([])
    expect(e.conn.closed).toBe(false)
  })

  it('sends the diff once a minute: dropped peers, new peers, and nothing when nothing changed', async () => {
    const hub = await startHub()
    const a = await dialHub(hub, { listenPort: 7001 })
    const b = await dialHub(hub, { listenPort: 7002 })
    await hub.waitForHandshakes([a, b])
    const tick = (
      now: number,
      peers: Peer[],
      extra: { conn: PeerConnection; address?: PeerAddress }[] = [],
    ) => hub.pex.tick([...peers.map((peer) => ({ conn: hub.hubSide(peer) })), ...extra], now)

    tick(0, [a, b])
    await until(() => a.messages.length === 1 && b.messages.length === 1, 'the first messages')
    expect(a.messages[0]).toEqual({ added: [at('127.0.0.1', 7002)], addedFlags: [0], dropped: [] })

    // c has no listen port, but the torrent knows where it listens.
    const c = await dialHub(hub)
    await hub.waitForHandshakes([c])
    const cAt = { conn: hub.hubSide(c), address: parsePeerAddress('127.0.0.1:7003') }
    tick(59_999, [a, b], [cAt])
    // Not a minute yet for a and b; c's first message goes out at once.
    expect(hub.pex.stats.messagesSent).toBe(3)
    await until(() => c.messages.length === 1, "c's first message")
    expect(c.messages[0]?.added).toEqual([at('127.0.0.1', 7001), at('127.0.0.1', 7002)])

    b.conn.close()
    await until(() => hub.hubSide(b).closed, 'the hub to see b go')
    tick(60_000, [a, b], [cAt])
    await until(() => a.messages.length === 2, "a's second message")
    expect(a.messages[1]).toEqual({
      added: [at('127.0.0.1', 7003)],
      addedFlags: [0],
      dropped: [at('127.0.0.1', 7002)],
    })

    // Nothing changed for a since: no message, however long.
    tick(600_000, [a], [cAt])
    await until(() => c.messages.length === 2, "c's second message")
    expect(c.messages[1]).toEqual({ added: [], addedFlags: [], dropped: [at('127.0.0.1', 7002)] })
    expect(a.messages).toHaveLength(2)
    expect(hub.pex.stats.messagesSent).toBe(5)
  })

  it('ignores a peer that sends too often or sends junk, and caps what one message teaches', async () => {
    const hub = await startHub()
    let clock = 0
    const learned: PeerAddress[][] = []
    // The receiver's default rate limit (30 s), on a clock the test moves.
    const receiver = new PeerExchange({ onPeers: (peers) => learned.push(peers), now: () => clock })
    const learning = await dialHub(hub, { pex: receiver })
    await hub.waitForHandshakes([learning])
    const hubSide = hub.hubSide(learning)

    const contacts = (count: number, third: number) =>
      Array.from({ length: count }, (_, i) => at(`11.${third}.${i >> 8}.${i & 0xff}`, 6881))
    let arrived = 0
    learning.conn.on('message', (message) => {
      if (message.type === 'extended' && message.name === UT_PEX) arrived++
    })
    const send = async (time: number, payload: Uint8Array) => {
      clock = time
      const before = arrived
      hubSide.sendExtended(UT_PEX, payload)
      await until(() => arrived === before + 1, 'the message to arrive')
    }

    // A first message may be larger (BEP 11): 100 of its 120 are taken.
    await send(0, encodePexMessage({ added: contacts(120, 1) }))
    expect(learned).toEqual([contacts(100, 1)])
    // 10 s later: too soon, ignored.
    await send(10_000, encodePexMessage({ added: contacts(5, 2) }))
    expect(learned).toHaveLength(1)
    // Junk is counted and ignored; the connection stays.
    await send(31_000, Uint8Array.from(Buffer.from('d5:added3:abce')))
    // Later messages teach at most 50.
    await send(62_000, encodePexMessage({ added: contacts(80, 3) }))
    expect(learned[1]).toEqual(contacts(50, 3))
    expect(receiver.stats).toEqual({
      messagesSent: 0,
      messagesReceived: 3,
      messagesIgnored: 1,
      malformedMessages: 1,
      peersLearned: 150,
    })
    expect(learning.conn.closed).toBe(false)
    expect(hubSide.closed).toBe(false)
  })
})

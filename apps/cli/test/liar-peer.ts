// A misbehaving seeder on a loopback address of its own for download tests: it has the whole torrent,
// says so (all but one liar), unchokes at once (so it gets requests before honest peers do), and then
// lies in one chosen way. It accepts the client's connections, or with `dialTo` dials the client again
// and again from its own address, as a banned peer that comes back from new ports would. Built on
// @bt/peer-wire's acceptPeer and connectPeer, except the oversized-frame liar, which writes raw bytes no
// encoder would.
import { randomBytes } from 'node:crypto'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  acceptPeer,
  connectPeer,
  encodeHandshake,
  HANDSHAKE_LENGTH,
  type PeerConnection,
} from '@bt/peer-wire'

const BLOCK = 16 * 1024

export type LiarBehavior =
  /** Answers every request with the right length but one flipped byte. */
  | 'corrupt'
  /**
   * Answers only the first block of each piece, corrupt, and rejects (BEP 6) every other request, so
   * the honest peers send the rest: each bad piece has an honest co-sender.
   */
  | 'corrupt-shared'
  /** Answers requests with blocks one byte short or one byte long. */
  | 'wrong-length'
  /**
   * Announces the even pieces only and answers requests honestly, but with each answer also sends a
   * block of garbage of an odd piece, which the client cannot have asked it for.
   */
  | 'unrequested'
  /** After the handshake, announces a piece message of almost 4 GiB and then trickles bytes. */
  | 'oversized'
  /** Unchokes, accepts requests and never answers them (keep-alives only). */
  | 'stall'

export interface LiarPeerInit {
  behavior: LiarBehavior
  infoHash: string
  /** The torrent's content, all files concatenated (what it pretends to serve). */
  content: Uint8Array
  pieceLength: number
  /**
   * The address it listens on and dials from, default 127.0.0.1. Give it one of its own (127.0.0.66…:
   * all of 127.0.0.0/8 reaches `lo`), so a ban of its IP spares the honest peers of the test.
   */
  host?: string
  /**
   * Also dial the client here: handshake as the initiator, lie, and once the connection is closed dial
   * again from a new source port after `redialDelayMs`, until `maxDials` attempts or `close()`.
   */
  dialTo?: { host: string; port: number }
  /** Pause between the end of one dialled connection (or a failed attempt) and the next. Default 150 ms. */
  redialDelayMs?: number
  /** TCP connection attempts at most in dialling mode. Default 100. */
  maxDials?: number
}

/** How one dial of the client went. */
export type DialOutcome =
  /** The TCP connect failed: nobody listening (yet, or any more). */
  | 'refused'
  /** The client accepted TCP but did not answer our handshake: it closed the connection (a banned IP). */
  | 'no-handshake'
  /** The client answered our handshake. */
  | 'handshake'

export interface LiarStats {
  /** TCP connections: accepted ones, and attempts to dial the client. */
  connections: number
  /** Each attempt to dial the client (`dialTo`), in order. */
  dials: DialOutcome[]
  /** Connections whose BitTorrent handshake completed both ways (the client answered ours, or we its). */
  handshakes: number
  requests: number
  /** Piece messages sent, requested or not. */
  blocksSent: number
  /** Piece messages sent in each handshaken connection, in the order they opened. */
  blocksPerConnection: number[]
  /** Handshaken connections the client closed (the liar never closes one itself while running). */
  closedByClient: number
}

export interface LiarPeer {
  /** The address it listens on and dials from. */
  host: string
  port: number
  readonly stats: LiarStats
  close(): Promise<void>
}

export async function startLiarPeer(init: LiarPeerInit): Promise<LiarPeer> {
  const host = init.host ?? '127.0.0.1'
  const infoHash = Buffer.from(init.infoHash, 'hex')
  const pieceCount = Math.ceil(init.content.length / init.pieceLength)
  const peerId = Buffer.concat([Buffer.from('-LI0001-', 'latin1'), randomBytes(12)])
  const stats: LiarStats = {
    connections: 0,
    dials: [],
    handshakes: 0,
    requests: 0,
    blocksSent: 0,
    blocksPerConnection: [],
    closedByClient: 0,
  }
  const sockets = new Set<Socket>()
  const connections = new Set<PeerConnection>()
  const timers = new Set<NodeJS.Timeout>()
  const stopping = new AbortController()

  const pieceLength = (index: number) =>
    Math.min(init.pieceLength, init.content.length - index * init.pieceLength)
  const slice = (index: number, begin: number, length: number) => {
    const start = index * init.pieceLength + begin
    return init.content.subarray(start, start + length)
  }
  const fullBitfield = () => {
    const bytes = new Uint8Array(Math.ceil(pieceCount / 8)).fill(0xff)
    const spare = bytes.length * 8 - pieceCount
    if (spare > 0) bytes[bytes.length - 1] = (0xff << spare) & 0xff
    return bytes
  }
  /** Even pieces only (BEP 3 bit order: 0x80 is piece 0). */
  const evenBitfield = () => fullBitfield().map((byte) => byte & 0xaa)

  /** Counts a handshaken connection; returns the function that counts a block sent on it. */
  const opened = () => {
    stats.handshakes++
    const slot = stats.blocksPerConnection.push(0) - 1
    return () => {
      stats.blocksSent++
      stats.blocksPerConnection[slot]!++
    }
  }

  /** Resolves once the connection is closed, by whichever side. */
  const serve = (conn: PeerConnection): Promise<void> => {
    const sent = opened()
    connections.add(conn)
    const ended = new Promise<void>((resolve) =>
      conn.once('close', () => {
        connections.delete(conn)
        if (!stopping.signal.aborted) stats.closedByClient++
        resolve()
      }),
    )
    if (init.behavior === 'unrequested') conn.bitfield(evenBitfield())
    else if (conn.negotiated.fast) conn.haveAll()
    else conn.bitfield(fullBitfield())
    conn.unchoke()
    let answered = 0
    conn.on('message', (message) => {
      if (message.type !== 'request') return
      stats.requests++
      const { index, begin, length } = message
      if (index >= pieceCount || begin + length > pieceLength(index)) return
      const block = slice(index, begin, length)
      switch (init.behavior) {
        case 'corrupt': {
          const bad = Buffer.from(block)
          bad[bad.length >> 1] = bad[bad.length >> 1]! ^ 0x5a
          conn.piece(index, begin, bad)
          break
        }
        case 'corrupt-shared': {
          if (begin !== 0) {
            if (conn.negotiated.fast) conn.reject(index, begin, length)
            return
          }
          const bad = Buffer.from(block)
          bad[0] = bad[0]! ^ 0x5a
          conn.piece(index, begin, bad)
          break
        }
        case 'wrong-length': {
          // Alternately one byte short and one byte long (the extra byte is garbage).
          conn.piece(
            index,
            begin,
            answered % 2 === 0 ? block.subarray(0, length - 1) : Buffer.concat([block, Buffer.of(0x42)]),
          )
          break
        }
        case 'unrequested': {
          conn.piece(index, begin, block)
          // Garbage for a piece it does not announce, so the client cannot have asked it for that block.
          const other = 2 * Math.floor((Math.random() * pieceCount) / 2) + 1
          if (other < pieceCount) {
            const otherBegin = Math.floor((Math.random() * pieceLength(other)) / BLOCK) * BLOCK
            conn.piece(other, otherBegin, randomBytes(Math.min(BLOCK, pieceLength(other) - otherBegin)))
            sent()
          }
          break
        }
        case 'stall':
          return
        case 'oversized':
          return
      }
      answered++
      sent()
    })
    return ended
  }

  /**
   * Raw: handshake (first when we dialled, else in answer), bitfield, unchoke, then a length prefix no
   * sane client may allocate. Resolves once the socket is closed.
   */
  const serveOversized = (socket: Socket, initiator: boolean): Promise<void> => {
    const handshake = encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId })
    if (initiator) socket.write(handshake)
    let received = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      if (received.length >= HANDSHAKE_LENGTH) return
      received = Buffer.concat([received, chunk])
      if (received.length < HANDSHAKE_LENGTH) return
      if (!received.subarray(28, 48).equals(infoHash)) {
        socket.destroy()
        return
      }
      opened()
      socket.once('close', () => {
        if (!stopping.signal.aborted) stats.closedByClient++
      })
      const bitfield = fullBitfield()
      const header = Buffer.alloc(5)
      header.writeUInt32BE(bitfield.length + 1, 0)
      header[4] = 5
      if (!initiator) socket.write(handshake)
      socket.write(Buffer.concat([header, bitfield, Buffer.from([0, 0, 0, 1, 1])]))
      const frame = Buffer.alloc(13)
      frame.writeUInt32BE(0xfffffff0, 0)
      frame[4] = 7
      socket.write(frame)
      // A trickle keeps the connection busy: a client that waits for the frame to complete never sees
      // the end of it.
      const timer = setInterval(() => socket.write(randomBytes(1024)), 200)
      timers.add(timer)
      socket.once('close', () => {
        clearInterval(timer)
        timers.delete(timer)
      })
    })
    return new Promise((resolve) => socket.once('close', () => resolve()))
  }

  /** Counts a TCP connection and forgets it once closed. */
  const track = (socket: Socket) => {
    stats.connections++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
  }

  const server = createServer((socket) => {
    track(socket)
    if (init.behavior === 'oversized') {
      void serveOversized(socket, false)
      return
    }
    acceptPeer(socket, {
      findTorrent: (hash) => (Buffer.from(hash).equals(infoHash) ? { peerId, pieceCount } : undefined),
    }).then(serve, () => {})
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })

  /** One dialled connection, from handshake to close. */
  const dialOnce = async (target: { host: string; port: number }): Promise<void> => {
    if (init.behavior === 'oversized') {
      const socket = connect({ host: target.host, port: target.port, localAddress: host })
      track(socket)
      const connected = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true))
        socket.once('close', () => resolve(false))
      })
      if (!connected) {
        stats.dials.push('refused')
        return
      }
      const handshakes = stats.handshakes
      await serveOversized(socket, true)
      stats.dials.push(stats.handshakes > handshakes ? 'handshake' : 'no-handshake')
      return
    }
    stats.connections++
    let conn: PeerConnection
    try {
      conn = await connectPeer(
        target,
        { infoHash, peerId, pieceCount },
        { localAddress: host, signal: stopping.signal, connectTimeoutMs: 5000, handshakeTimeoutMs: 5000 },
      )
    } catch (error) {
      if (stopping.signal.aborted) return
      const refused =
        error instanceof Error &&
        error.name === 'PeerConnectionError' &&
        error.message.includes('could not connect')
      stats.dials.push(refused ? 'refused' : 'no-handshake')
      return
    }
    stats.dials.push('handshake')
    if (stopping.signal.aborted) {
      conn.close()
      return
    }
    await serve(conn)
  }

  const dialling = (async () => {
    const target = init.dialTo
    if (!target) return
    for (let attempt = 0; attempt < (init.maxDials ?? 100) && !stopping.signal.aborted; attempt++) {
      await dialOnce(target).catch(() => {})
      await sleep(init.redialDelayMs ?? 150, undefined, { signal: stopping.signal }).catch(() => {})
    }
  })()

  return {
    host,
    port: (server.address() as AddressInfo).port,
    stats,
    async close() {
      stopping.abort(new Error('liar closed'))
      for (const timer of timers) clearInterval(timer)
      for (const conn of connections) conn.close()
      for (const socket of sockets) socket.destroy()
      await dialling
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

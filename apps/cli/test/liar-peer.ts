// A misbehaving seeder on 127.0.0.1 for download tests: it has the whole torrent, says so (all but
// one liar), unchokes at once (so it gets requests before honest peers do), and then lies in one chosen
// way. Built on @bt/peer-wire's acceptPeer, except the oversized-frame liar, which writes raw bytes no
// encoder would.
import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { acceptPeer, encodeHandshake, HANDSHAKE_LENGTH, type PeerConnection } from '@bt/peer-wire'

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
}

export interface LiarStats {
  connections: number
  requests: number
  /** Piece messages sent, requested or not. */
  blocksSent: number
  /** Connections the client closed (the liar never closes one itself while running). */
  closedByClient: number
}

export interface LiarPeer {
  port: number
  readonly stats: LiarStats
  close(): Promise<void>
}

export async function startLiarPeer(init: LiarPeerInit): Promise<LiarPeer> {
  const infoHash = Buffer.from(init.infoHash, 'hex')
  const pieceCount = Math.ceil(init.content.length / init.pieceLength)
  const peerId = Buffer.concat([Buffer.from('-LI0001-', 'latin1'), randomBytes(12)])
  const stats: LiarStats = { connections: 0, requests: 0, blocksSent: 0, closedByClient: 0 }
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  let closing = false

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

  const onClientClose = () => {
    if (!closing) stats.closedByClient++
  }

  const serve = (conn: PeerConnection) => {
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
            stats.blocksSent++
          }
          break
        }
        case 'stall':
          return
        case 'oversized':
          return
      }
      answered++
      stats.blocksSent++
    })
  }

  /** Raw: handshake, bitfield, unchoke, then a length prefix no sane client may allocate. */
  const serveOversized = (socket: Socket) => {
    let received = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      if (received.length >= HANDSHAKE_LENGTH) return
      received = Buffer.concat([received, chunk])
      if (received.length < HANDSHAKE_LENGTH) return
      if (!received.subarray(28, 48).equals(infoHash)) {
        socket.destroy()
        return
      }
      const bitfield = fullBitfield()
      const header = Buffer.alloc(5)
      header.writeUInt32BE(bitfield.length + 1, 0)
      header[4] = 5
      socket.write(encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId }))
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
  }

  const server = createServer((socket) => {
    stats.connections++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => {
      sockets.delete(socket)
      onClientClose()
    })
    if (init.behavior === 'oversized') {
      serveOversized(socket)
      return
    }
    acceptPeer(socket, {
      findTorrent: (hash) => (Buffer.from(hash).equals(infoHash) ? { peerId, pieceCount } : undefined),
    }).then(serve, () => {})
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    port: (server.address() as AddressInfo).port,
    stats,
    async close() {
      closing = true
      for (const timer of timers) clearInterval(timer)
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

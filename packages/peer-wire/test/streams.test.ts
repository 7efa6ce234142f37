// A connection over any Duplex, not only a TCP socket: two in-memory streams joined back to back carry
// a dialling side (`openPeer`) and an accepting one (`acceptPeer` with the address given), including a
// handshake a layer below already sent.
import { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { acceptPeer, encodeHandshake, openPeer, type PeerConnection, reservedBytes } from '../src/index.js'
import { baseInit, INFO_HASH, nextMessage, peerId } from './loopback.js'

/**
 * One end of an in-memory pipe: what it is written goes to its `other` end's readable side, delivered
 * synchronously (a flowing reader gets it inside the writer's `write`), unlike TCP.
 */
class PipeEnd extends Duplex {
  other: PipeEnd | undefined

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.other?.push(Buffer.from(chunk))
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.other?.push(null)
    callback(error)
  }
}

/** Two Duplexes, each reading what the other writes. */
function streamPair(): [Duplex, Duplex] {
  const left = new PipeEnd()
  const right = new PipeEnd()
  left.other = right
  right.other = left
  return [left, right]
}

const open: PeerConnection[] = []
afterEach(() => {
  for (const conn of open.splice(0)) conn.close()
})

describe('PeerConnection over a Duplex', () => {
  it('openPeer and acceptPeer handshake and exchange messages', async () => {
    const [left, right] = streamPair()
    const remote = { host: '127.0.40.9', port: 51413 }
    const [a, b] = await Promise.all([
      openPeer(left, { host: '127.0.40.8', port: 6881 }, baseInit()),
      acceptPeer(
        right,
        { findTorrent: () => ({ peerId: peerId(), pieceCount: 10 }) },
        { remoteAddress: remote },
      ),
    ])
    open.push(a, b)
    expect(a.direction).toBe('outgoing')
    expect(b.direction).toBe('incoming')
    expect(b.remoteAddress).toEqual(remote)
    expect(Buffer.from(b.infoHash)).toEqual(Buffer.from(INFO_HASH))
    const got = nextMessage(b, 'interested')
    a.interested()
    await got
    expect(b.peerInterested).toBe(true)
  })

  it('does not send the handshake twice when a layer below sent it', async () => {
    const [left, right] = streamPair()
    const init = baseInit({ reserved: reservedBytes({ extended: false, fast: false }) })
    left.write(encodeHandshake({ reserved: init.reserved!, infoHash: init.infoHash, peerId: init.peerId }))
    const [a, b] = await Promise.all([
      openPeer(left, { host: '127.0.40.8', port: 6881 }, init, { handshakeSent: true }),
      acceptPeer(
        right,
        { findTorrent: () => ({ peerId: peerId(), pieceCount: 10 }) },
        { remoteAddress: { host: '127.0.40.9', port: 1 } },
      ),
    ])
    open.push(a, b)
    // A second handshake would arrive as a garbage message and close the connection.
    const got = nextMessage(b, 'have')
    a.have(3)
    expect((await got).index).toBe(3)
    expect(b.closed).toBe(false)
  })

  it('acceptPeer refuses a stream without an address', async () => {
    const [, right] = streamPair()
    await expect(acceptPeer(right, { findTorrent: () => undefined })).rejects.toThrow(/remoteAddress/)
    expect(right.destroyed).toBe(true)
  })
})

// The upload pump against real sockets: peers request blocks (in random orders, from a cache far too
// small for them, with sockets backed up) and every byte that arrives must be the piece's.
import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { createTorrent, type Metainfo, parseTorrent } from '@bt/metainfo'
import { acceptPeer, connectPeer, type PeerConnection } from '@bt/peer-wire'
import { createMemoryStore, type PieceStore } from '@bt/piece-store'
import { pseudoRandomBytes } from '@bt/test-helpers'
import { afterEach, describe, expect, it } from 'vitest'
import { RateMeter } from './rate.js'
import { RateLimiter } from './rate-limiter.js'
import { MAX_QUEUED_UPLOADS, Uploader, type UploadQueue } from './uploader.js'

interface Fixture {
  meta: Metainfo
  content: Uint8Array
  store: PieceStore
}

async function fixture(length: number, pieceLength: number): Promise<Fixture> {
  const content = pseudoRandomBytes(length, `uploader-${length}-${pieceLength}`)
  const created = await createTorrent({ path: ['up.bin'], length, source: content }, { pieceLength })
  const meta = parseTorrent(created.torrent)
  const store = createMemoryStore(meta)
  for (let index = 0; index < meta.pieceCount; index++) {
    const start = index * meta.pieceLength
    await store.writePiece(index, content.subarray(start, start + meta.layout.pieceLengthAt(index)))
  }
  return { meta, content, store }
}

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Peer {
  /** Our side, which serves. */
  seeder: PeerConnection
  /** The other side, which requests. */
  leecher: PeerConnection
  queue: UploadQueue
}

/** `count` connected pairs whose seeder side feeds requests and cancels to `uploader`. */
async function peers(meta: Metainfo, uploader: Uploader, count: number): Promise<Peer[]> {
  const sockets = new Set<Socket>()
  const accepted: Promise<PeerConnection>[] = []
  const init = () => ({ infoHash: meta.infoHashBytes, peerId: randomBytes(20), pieceCount: meta.pieceCount })
  const server = createServer((socket) => {
    sockets.add(socket)
    accepted.push(acceptPeer(socket, { findTorrent: init }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  const result: Peer[] = []
  for (let i = 0; i < count; i++) {
    const leecher = await connectPeer({ host: '127.0.0.1', port }, init())
    const seeder = await accepted[i]!
    cleanups.push(() => {
      leecher.close()
      seeder.close()
    })
    const queue: UploadQueue = { conn: seeder, requests: [], sending: false, rate: new RateMeter() }
    seeder.on('message', (message) => {
      if (message.type === 'request') uploader.request(queue, message)
      else if (message.type === 'cancel') uploader.cancel(queue, message)
    })
    seeder.unchoke()
    result.push({ seeder, leecher, queue })
  }
  return result
}

function allBlocks(meta: Metainfo): { index: number; begin: number; length: number }[] {
  const blocks = []
  for (let index = 0; index < meta.pieceCount; index++) {
    const length = meta.layout.pieceLengthAt(index)
    for (let begin = 0; begin < length; begin += 16384)
      blocks.push({ index, begin, length: Math.min(16384, length - begin) })
  }
  return blocks
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items]
  let state = seed
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) & 0x7fffffff
    const j = state % (i + 1)
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy
}

/** Requests `blocks` (at most `window` outstanding) and checks each one against the content. */
function fetchAll(
  peer: Peer,
  fx: Fixture,
  blocks: readonly { index: number; begin: number; length: number }[],
  window: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let next = 0
    let received = 0
    const ask = () => {
      while (next < blocks.length && next - received < window) {
        const { index, begin, length } = blocks[next++]!
        peer.leecher.request(index, begin, length)
      }
    }
    peer.leecher.on('message', (message) => {
      if (message.type !== 'piece') return
      const start = message.index * fx.meta.pieceLength + message.begin
      const expected = fx.content.subarray(start, start + message.block.length)
      if (!Buffer.from(message.block).equals(expected)) {
        reject(new Error(`block ${message.index}/${message.begin} arrived corrupted`))
        return
      }
      received++
      if (received === blocks.length) resolve(received)
      else ask()
    })
    peer.leecher.once('close', () => reject(new Error('closed')))
    ask()
  })
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)

describe('Uploader', () => {
  it('serves correct bytes to many peers through a cache far smaller than what they want', async () => {
    const fx = await fixture(40 * 32 * 1024 + 5000, 32 * 1024)
    let sent = 0
    // Three pieces of cache for eight peers reading in different orders: reads, read-ahead and
    // eviction all compete for buffers while earlier blocks still sit in socket buffers.
    const uploader = new Uploader(
      fx.store,
      (index) => fx.meta.layout.pieceLengthAt(index),
      fx.meta.pieceCount,
      (bytes) => {
        sent += bytes
      },
      [],
      3 * 32 * 1024,
    )
    const connected = await peers(fx.meta, uploader, 8)
    const blocks = allBlocks(fx.meta)
    // Half of the peers stop reading for a while, so their sockets back up with blocks in flight.
    for (const peer of connected.slice(0, 4)) peer.leecher.pause()
    const done = connected.map((peer, i) =>
      fetchAll(peer, fx, i % 2 === 0 ? shuffled(blocks, i + 1) : blocks, 40 + i * 20),
    )
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (const peer of connected.slice(0, 4)) peer.leecher.resume()
    const counts = await Promise.all(done)
    expect(counts).toEqual(new Array(8).fill(blocks.length))
    expect(sent).toBe(8 * fx.content.length)
    expect(sum(connected.map((peer) => peer.queue.rate.total))).toBe(sent)
  })

  it('never reuses a buffer still being sent when segments outlast a batch (1 MiB pieces)', async () => {
    // Larger than what loopback sockets buffer, so paused readers really do back them up.
    const fx = await fixture(16 * 1024 * 1024 + 20_000, 1024 * 1024)
    // One or two slots: the head segment, its read-ahead and other peers' reads fight over them.
    for (const cacheBytes of [1024 * 1024, 2 * 1024 * 1024]) {
      const uploader = new Uploader(
        fx.store,
        (index) => fx.meta.layout.pieceLengthAt(index),
        fx.meta.pieceCount,
        () => {},
        [],
        cacheBytes,
      )
      const connected = await peers(fx.meta, uploader, cacheBytes === 1024 * 1024 ? 1 : 3)
      const blocks = allBlocks(fx.meta)
      // Paused readers back the sockets up, so the pump waits for drains with a segment half sent.
      for (const peer of connected) peer.leecher.pause()
      const done = connected.map((peer, i) =>
        fetchAll(peer, fx, i === 2 ? shuffled(blocks, 3) : blocks, blocks.length),
      )
      await new Promise((resolve) => setTimeout(resolve, 300))
      for (const peer of connected) peer.leecher.resume()
      expect(await Promise.all(done)).toEqual(new Array(connected.length).fill(blocks.length))
    }
  })

  it('reads pieces over 1 MiB in parts, and a block across two parts on its own', async () => {
    const fx = await fixture(2 * 2 * 1024 * 1024 + 70_000, 2 * 1024 * 1024)
    const uploader = new Uploader(
      fx.store,
      (index) => fx.meta.layout.pieceLengthAt(index),
      fx.meta.pieceCount,
      () => {},
      [],
      2 * 1024 * 1024,
    )
    const [peer] = await peers(fx.meta, uploader, 1)
    const blocks = [
      ...allBlocks(fx.meta),
      // Odd offsets: across the 1 MiB boundary inside a piece, and the very end of the torrent.
      { index: 0, begin: 1024 * 1024 - 100, length: 16384 },
      { index: 1, begin: 1024 * 1024 - 1, length: 2 },
      { index: 2, begin: 70_000 - 3, length: 3 },
    ]
    expect(await fetchAll(peer!, fx, shuffled(blocks, 7), 300)).toBe(blocks.length)
  })

  it('drops cancelled requests unsent and voids queued ones on choke', async () => {
    const fx = await fixture(8 * 32 * 1024, 32 * 1024)
    const uploader = new Uploader(
      fx.store,
      (index) => fx.meta.layout.pieceLengthAt(index),
      fx.meta.pieceCount,
      () => {},
    )
    const [peer] = await peers(fx.meta, uploader, 1)
    const { queue } = peer!
    // Queued directly (no socket round trip), then cancelled before the pump's read completes.
    expect(uploader.request(queue, { index: 3, begin: 0, length: 16384 })).toBe('queued')
    expect(uploader.request(queue, { index: 3, begin: 16384, length: 16384 })).toBe('queued')
    uploader.cancel(queue, { index: 3, begin: 16384, length: 16384 })
    uploader.choked(queue)
    expect(queue.requests).toEqual([])
    const pieces: number[] = []
    peer!.leecher.on('message', (message) => {
      if (message.type === 'piece') pieces.push(message.begin)
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(pieces).toEqual([])
  })

  it('rejects what it must not serve and calls floods and huge blocks abusive', async () => {
    const fx = await fixture(4 * 32 * 1024, 32 * 1024)
    const store = createMemoryStore(fx.meta)
    await store.writePiece(0, fx.content.subarray(0, 32 * 1024))
    const uploader = new Uploader(
      store,
      (index) => fx.meta.layout.pieceLengthAt(index),
      fx.meta.pieceCount,
      () => {},
    )
    const [peer] = await peers(fx.meta, uploader, 1)
    const { queue } = peer!
    expect(uploader.request(queue, { index: 1, begin: 0, length: 16384 })).toBe('rejected')
    expect(uploader.request(queue, { index: 4, begin: 0, length: 16384 })).toBe('rejected')
    expect(uploader.request(queue, { index: 0, begin: 16385, length: 16384 })).toBe('rejected')
    expect(uploader.request(queue, { index: 0, begin: 0, length: 16385 })).toBe('rejected')
    expect(uploader.request(queue, { index: 0, begin: 0, length: 0 })).toBe('rejected')
    expect(uploader.request(queue, { index: 0, begin: 0, length: 200_000 })).toBe('abusive')
    // The queue holds the peer's requests until the pump takes them: fill it past the limit at once.
    let verdict = 'queued'
    let count = 0
    while (verdict === 'queued' && count <= MAX_QUEUED_UPLOADS) {
      verdict = uploader.request(queue, { index: 0, begin: 0, length: 16384 })
      count++
    }
    expect(verdict).toBe('abusive')
    expect(count).toBe(MAX_QUEUED_UPLOADS + 1)
    peer!.seeder.choke()
    uploader.choked(queue)
    expect(uploader.request(queue, { index: 0, begin: 0, length: 16384 })).toBe('rejected')
  })

  it('keeps to an upload limit', async () => {
    const fx = await fixture(16 * 32 * 1024, 32 * 1024)
    const uploader = new Uploader(
      fx.store,
      (index) => fx.meta.layout.pieceLengthAt(index),
      fx.meta.pieceCount,
      () => {},
      [new RateLimiter(256 * 1024)],
    )
    const [peer] = await peers(fx.meta, uploader, 1)
    const started = Date.now()
    // 512 KiB at 256 KiB/s: one second of burst, then a second of waiting.
    expect(await fetchAll(peer!, fx, allBlocks(fx.meta), 64)).toBe(32)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })
})

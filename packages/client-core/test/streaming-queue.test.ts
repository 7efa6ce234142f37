// A streamed torrent keeps its request queues short: a seeder answering in batches (so requests pile
// up at it) sees at most half a piece of requests outstanding from a torrent a reader was opened on,
// and far more from one nobody reads, whose queue follows the rate (3 s of data).
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { createTorrent, type Metainfo, parseTorrent } from '@bt/metainfo'
import { acceptPeer } from '@bt/peer-wire'
import { createMemoryStore } from '@bt/piece-store'
import { pseudoRandomBytes } from '@bt/test-helpers'
import { afterEach, expect, it } from 'vitest'
import { createClient } from '../src/index.js'

const PIECE = 256 * 1024
const content = pseudoRandomBytes(8 * 1024 * 1024, 'streaming-queue')
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A seeder of `meta` that answers what was asked every 40 ms, and the most requests it ever held. */
async function batchingSeeder(meta: Metainfo): Promise<{ port: number; maxOutstanding: () => number }> {
  let most = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    acceptPeer(socket, {
      findTorrent: () => ({ peerId: Buffer.from('-TEST00-batch-seeder'), pieceCount: meta.pieceCount }),
    }).then(
      (conn) => {
        const queue: { index: number; begin: number; length: number }[] = []
        conn.on('message', (message) => {
          if (message.type === 'request') {
            queue.push(message)
            most = Math.max(most, queue.length)
          }
        })
        const timer = setInterval(() => {
          for (const { index, begin, length } of queue.splice(0)) {
            const at = index * meta.pieceLength + begin
            conn.piece(index, begin, content.subarray(at, at + length))
          }
        }, 40)
        conn.once('close', () => clearInterval(timer))
        conn.haveAll()
        conn.unchoke()
      },
      () => {},
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  return { port: (server.address() as AddressInfo).port, maxOutstanding: () => most }
}

async function download(streamed: boolean): Promise<number> {
  const meta = parseTorrent(
    (
      await createTorrent(
        { path: ['movie.bin'], length: content.length, source: content },
        { pieceLength: PIECE },
      )
    ).torrent,
  )
  const seeder = await batchingSeeder(meta)
  const client = createClient()
  cleanups.push(() => client.close())
  const torrent = client.add(meta, {
    store: createMemoryStore(meta),
    peers: [{ host: '127.0.0.1', port: seeder.port }],
    announce: false,
  })
  if (streamed) {
    // A player reading the first megabyte, then done.
    let read = 0
    for await (const chunk of torrent.read(0, 0, content.length)) {
      read += chunk.length
      if (read >= 1024 * 1024) break
    }
  }
  await torrent.done
  return seeder.maxOutstanding()
}

it('keeps at most half a piece requested per peer once a reader was opened, and 3 s of data otherwise', async () => {
  const halfPiece = PIECE / 16 / 1024 / 2
  expect(await download(true)).toBeLessThanOrEqual(halfPiece)
  expect(await download(false)).toBeGreaterThan(4 * halfPiece)
}, 60_000)

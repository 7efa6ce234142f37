// Which peers are told about each verified piece: a leecher that lacks it is, a seed (or a peer that has
// the piece) is not — to a seed a have is only a syscall and a wake-up.
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { createTorrent, parseTorrent } from '@bt/metainfo'
import { acceptPeer, type PeerConnection } from '@bt/peer-wire'
import { createMemoryStore } from '@bt/piece-store'
import { pseudoRandomBytes } from '@bt/test-helpers'
import { afterEach, expect, it } from 'vitest'
import { createClient } from '../src/index.js'

const content = pseudoRandomBytes(1024 * 1024, 'have-messages')
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A peer of ours on loopback: `seed` has every piece and serves them; otherwise it has none. */
async function peer(seed: boolean, pieceCount: number, pieceLength: number) {
  const haves: number[] = []
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    acceptPeer(socket, {
      findTorrent: () => ({
        peerId: Buffer.from(seed ? '-TEST00-seeder-peerX' : '-TEST00-leecher-peer'),
        pieceCount,
      }),
    }).then(
      (conn: PeerConnection) => {
        conn.on('message', (message) => {
          if (message.type === 'have') haves.push(message.index)
          if (message.type === 'request' && seed) {
            const at = message.index * pieceLength + message.begin
            conn.piece(message.index, message.begin, content.subarray(at, at + message.length))
          }
        })
        if (seed) {
          conn.haveAll()
          conn.unchoke()
        } else conn.haveNone()
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
  return { address: { host: '127.0.0.1', port: (server.address() as AddressInfo).port }, haves }
}

it('tells a leecher about every verified piece and a seed about none', async () => {
  const meta = parseTorrent(
    (
      await createTorrent(
        { path: ['have.bin'], length: content.length, source: content },
        { pieceLength: 16 * 1024 },
      )
    ).torrent,
  )
  const seed = await peer(true, meta.pieceCount, meta.pieceLength)
  const leecher = await peer(false, meta.pieceCount, meta.pieceLength)
  const client = createClient()
  cleanups.push(() => client.close())
  const torrent = client.add(meta, {
    store: createMemoryStore(meta),
    peers: [seed.address, leecher.address],
    announce: false,
    seed: true,
  })
  await torrent.done
  const deadline = Date.now() + 5000
  while (leecher.haves.length < meta.pieceCount && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  expect(new Set(leecher.haves).size).toBe(meta.pieceCount)
  expect(seed.haves).toEqual([])
}, 30_000)

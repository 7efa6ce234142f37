// Peer exchange in a real swarm on loopback: a leecher that knows one peer only (a hub that has nothing
// to give) learns the seeders from it through BEP 11 and downloads from them.
import { createTorrent, parseTorrent } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import { pseudoRandomBytes } from '@bt/test-helpers'
import { afterEach, expect, it } from 'vitest'
import { type Client, createClient, type Torrent } from '../src/index.js'
import { filledMemoryStore } from './stores.js'

const content = pseudoRandomBytes(1024 * 1024 + 99, 'pex-swarm')
const clients: Client[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

async function listening(): Promise<Client> {
  const client = createClient()
  clients.push(client)
  await client.listen({ port: 0, host: '127.0.0.1' })
  return client
}

const local = (client: Client) => ({ host: '127.0.0.1', port: client.port })

it('a leecher that knows only a hub finds the seeders through PEX and downloads from them', async () => {
  const meta = parseTorrent(
    (
      await createTorrent(
        { path: ['pex.bin'], length: content.length, source: content },
        { pieceLength: 16 * 1024 },
      )
    ).torrent,
  )
  const seeders: Torrent[] = []
  for (let i = 0; i < 2; i++) {
    const client = await listening()
    seeders.push(
      client.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false }),
    )
  }
  // The hub stays a leecher (1 byte/s), so it keeps its connections to both seeders and has no piece to give.
  const hub = await listening()
  hub.add(meta, {
    store: createMemoryStore(meta),
    announce: false,
    downloadLimit: 1,
    peers: seeders.map((_, i) => local(clients[i]!)),
  })
  const leecher = await listening()
  const store = createMemoryStore(meta)
  const torrent = leecher.add(meta, { store, announce: false, peers: [local(hub)] })
  await torrent.done
  const pieces = await Promise.all([...Array(meta.pieceCount).keys()].map((i) => store.readPiece(i)))
  expect(Buffer.concat(pieces).equals(content)).toBe(true)
  expect(torrent.progress().knownPeers).toBeGreaterThanOrEqual(3)
  const uploaded = seeders.map((seeder) => seeder.progress().uploadedBytes)
  expect(uploaded[0]! + uploaded[1]!).toBeGreaterThanOrEqual(content.length)
}, 30_000)

it('with pex: false a torrent neither offers ut_pex nor learns peers from a hub that has them', async () => {
  const meta = parseTorrent(
    (
      await createTorrent(
        { path: ['nopex.bin'], length: content.length, source: content },
        { pieceLength: 16 * 1024 },
      )
    ).torrent,
  )
  const seeder = await listening()
  // Without PEX itself, so the hub's PEX cannot bring the seeder to dial the leecher either.
  seeder.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false, pex: false })
  const hub = await listening()
  const hubTorrent = hub.add(meta, {
    store: createMemoryStore(meta),
    announce: false,
    downloadLimit: 1,
    peers: [local(seeder)],
    pexIntervalMs: 50,
  })
  const leecher = await listening()
  const torrent = leecher.add(meta, {
    store: createMemoryStore(meta),
    announce: false,
    peers: [local(hub)],
    pex: false,
  })
  const deadline = Date.now() + 10_000
  while (hubTorrent.progress().peers < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  expect(hubTorrent.progress().peers).toBe(2)
  // Long enough for the hub's ticks to send PEX, had it been offered (without `pex: false` the seeder
  // is learnt within about a second).
  const wait = Date.now() + 3000
  while (torrent.progress().knownPeers < 2 && Date.now() < wait) await new Promise((r) => setTimeout(r, 50))
  expect(torrent.progress().knownPeers).toBe(1)
}, 30_000)

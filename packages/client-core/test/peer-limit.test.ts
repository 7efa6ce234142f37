// A torrent's peer limit changed while it runs: lowered, the connections beyond it close (and stay
// closed); raised, the torrent dials the peers it dropped again.
import { createTorrent, parseTorrent } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import { pseudoRandomBytes } from '@bt/test-helpers'
import { afterEach, expect, it } from 'vitest'
import { type Client, createClient, type Torrent } from '../src/index.js'
import { filledMemoryStore } from './stores.js'

const content = pseudoRandomBytes(2 * 1024 * 1024, 'peer-limit')
const clients: Client[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

async function listening(host: string): Promise<Client> {
  const client = createClient()
  clients.push(client)
  await client.listen({ port: 0, host })
  return client
}

async function until(torrent: Torrent, test: (peers: number) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!test(torrent.progress().peers)) {
    if (Date.now() > deadline) throw new Error(`${what}: ${torrent.progress().peers} peers`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

it('closes the connections beyond a lowered limit, and dials again when it is raised', async () => {
  const meta = parseTorrent(
    (
      await createTorrent(
        { path: ['limit.bin'], length: content.length, source: content },
        { pieceLength: 16 * 1024 },
      )
    ).torrent,
  )
  const seeders: Client[] = []
  for (const host of ['127.0.0.21', '127.0.0.22', '127.0.0.23']) {
    const client = await listening(host)
    client.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false })
    seeders.push(client)
  }
  const leecher = await listening('127.0.0.20')
  // Slow enough to stay a leecher (and keep its peers) for the whole test.
  const torrent = leecher.add(meta, {
    store: createMemoryStore(meta),
    announce: false,
    downloadLimit: 16 * 1024,
    peers: seeders.map((client, i) => ({ host: `127.0.0.2${i + 1}`, port: client.port })),
  })
  await until(torrent, (peers) => peers === 3, 'all three connected')
  torrent.setMaxConnections(1)
  await until(torrent, (peers) => peers === 1, 'two closed')
  await new Promise((resolve) => setTimeout(resolve, 500))
  expect(torrent.progress().peers).toBe(1)
  torrent.setMaxConnections(3)
  await until(torrent, (peers) => peers === 3, 'the dropped peers dialled again')
}, 30_000)

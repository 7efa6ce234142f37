// The DHT as a peer source, through a private DHT of real libtorrent nodes: a seeding client announces
// its torrent there, and another client given only `magnet:?xt=urn:btih:…` (no tracker, no peer) finds it,
// fetches the metadata and downloads every piece, verified. Each of our nodes has its own address.
import { randomBytes } from 'node:crypto'
import { createDht, type Dht } from '@bt/dht'
import { createTorrent, parseMagnet, parseTorrent } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import { describeWithTools, type LibtorrentDht, startLibtorrentDht } from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Client, createClient } from '../src/index.js'
import { filledMemoryStore } from './stores.js'

describeWithTools(['py:libtorrent'], 'a trackerless magnet through a libtorrent DHT', () => {
  let network: LibtorrentDht
  const dhts: Dht[] = []
  const clients: Client[] = []

  beforeAll(async () => {
    network = await startLibtorrentDht({ count: 16 })
  }, 90_000)

  afterAll(async () => {
    for (const client of clients) await client.close()
    for (const dht of dhts) await dht.close()
    await network?.stop()
  })

  async function client(host: string, entry: number): Promise<Client> {
    const node = network.nodes[entry]!
    const dht = createDht({
      host,
      port: 0,
      restrictRoutingIps: false,
      bootstrap: [`${node.host}:${node.port}`],
    })
    dhts.push(dht)
    await dht.start()
    const made = createClient({ dht })
    clients.push(made)
    await made.listen({ port: 0, host })
    return made
  }

  it('finds the seeder by the info hash alone, fetches the metadata and completes', async () => {
    const content = new Uint8Array(randomBytes(600_000))
    const created = await createTorrent(
      { path: ['dht.bin'], length: content.length, source: content },
      { pieceLength: 32768 },
    )
    const meta = parseTorrent(created.torrent)
    const seeder = await client('127.0.0.61', 0)
    seeder.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false })
    const leecher = await client('127.0.0.62', 9)
    const magnet = parseMagnet(`magnet:?xt=urn:btih:${meta.infoHash}`)
    const { meta: fetched, peers } = await leecher.fetchMetadata(magnet, { announce: false }).done
    expect(fetched.infoHash).toBe(meta.infoHash)
    expect(peers.some((peer) => peer.host === '127.0.0.61')).toBe(true)
    const store = createMemoryStore(fetched)
    const torrent = leecher.add(fetched, { store, peers, announce: false })
    await torrent.done
    expect(store.have.complete).toBe(true)
  }, 90_000)
})

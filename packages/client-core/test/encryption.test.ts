// The encryption policies between two of our own clients on loopback: which pairs download (and over
// what), which refuse each other and how that is reported, a magnet's metadata fetched through MSE, and
// a `prefer` leecher that falls back to a plain handshake with an `off` seeder.
import { createTorrent, type Metainfo, parseMagnet, parseTorrent, toMagnet } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import { pseudoRandomBytes } from '@bt/test-helpers'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Alert, type Client, createClient, type EncryptionPolicy } from '../src/index.js'
import { filledMemoryStore } from './stores.js'

const content = pseudoRandomBytes(512 * 1024 + 333, 'encryption')
let meta: Metainfo
const clients: Client[] = []
let nextHost = 30

beforeAll(async () => {
  const created = await createTorrent(
    { path: ['encrypted.bin'], length: content.length, source: content },
    { pieceLength: 32 * 1024 },
  )
  meta = parseTorrent(created.torrent)
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

/** A seeding client on an address of its own (127.0.40.30, .31, …). */
async function seeder(encryption: EncryptionPolicy): Promise<{ host: string; port: number }> {
  const client = createClient({ encryption })
  clients.push(client)
  const host = `127.0.40.${nextHost++}`
  const port = await client.listen({ port: 0, host })
  client.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false })
  return { host, port }
}

function leecher(encryption: EncryptionPolicy, peer: { host: string; port: number }) {
  const client = createClient({ encryption })
  clients.push(client)
  const store = createMemoryStore(meta)
  const alerts: Alert[] = []
  const torrent = client.add(meta, {
    store,
    announce: false,
    peers: [peer],
    peerRetryDelayMs: 60_000,
    handshakeTimeoutMs: 3000,
  })
  torrent.on('alert', (alert) => alerts.push(alert))
  return { torrent, store, alerts }
}

async function downloaded(store: ReturnType<typeof createMemoryStore>): Promise<Buffer> {
  const pieces = await Promise.all([...Array(meta.pieceCount).keys()].map((index) => store.readPiece(index)))
  return Buffer.concat(pieces)
}

async function unreachable(alerts: Alert[]): Promise<Extract<Alert, { type: 'peers-unreachable' }>> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const found = alerts.find((alert) => alert.type === 'peers-unreachable')
    if (found) return found
    if (Date.now() > deadline) throw new Error(`no peers-unreachable alert: ${JSON.stringify(alerts)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('encryption policies between two clients', () => {
  for (const [seed, leech] of [
    ['require', 'prefer'],
    ['require', 'require'],
    ['prefer', 'require'],
    ['allow', 'require'],
    ['prefer', 'prefer'],
    ['off', 'prefer'],
    ['off', 'allow'],
    ['allow', 'off'],
  ] as const) {
    it(`a ${seed} seeder and a ${leech} leecher: the download completes, verified`, async () => {
      const { torrent, store } = leecher(leech, await seeder(seed))
      await torrent.done
      expect((await downloaded(store)).equals(content)).toBe(true)
    })
  }

  for (const [seed, leech] of [
    ['off', 'require'],
    ['require', 'off'],
    ['require', 'allow'],
  ] as const) {
    it(`a ${seed} seeder and a ${leech} leecher refuse each other, and the leecher says so`, async () => {
      const { torrent, alerts } = leecher(leech, await seeder(seed))
      const alert = await unreachable(alerts)
      expect(alert.known).toBe(1)
      expect(alert.failures.handshake + alert.failures.protocol).toBe(1)
      expect(alert.encryption).toBe(leech)
      expect(torrent.progress().piecesVerified).toBe(0)
    })
  }

  it('setEncryption reaches a running torrent: off fails against require, prefer then completes', async () => {
    const peer = await seeder('require')
    const client = createClient({ encryption: 'off' })
    clients.push(client)
    const store = createMemoryStore(meta)
    const alerts: Alert[] = []
    const torrent = client.add(meta, { store, announce: false, peers: [peer], peerRetryDelayMs: 200 })
    torrent.on('alert', (alert) => alerts.push(alert))
    expect((await unreachable(alerts)).encryption).toBe('off')
    client.setEncryption('prefer')
    expect(client.encryption).toBe('prefer')
    await torrent.done
    expect((await downloaded(store)).equals(content)).toBe(true)
  })

  it('setEncryption reaches incoming peers: a seeder switched to require turns a plain leecher away', async () => {
    const client = createClient({ encryption: 'allow' })
    clients.push(client)
    const host = `127.0.40.${nextHost++}`
    const port = await client.listen({ port: 0, host })
    client.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false })
    client.setEncryption('require')
    const { torrent, alerts } = leecher('allow', { host, port })
    expect((await unreachable(alerts)).failures.handshake).toBe(1)
    expect(torrent.progress().piecesVerified).toBe(0)
  })

  it('a require leecher fetches a magnet link’s metadata from a require seeder', async () => {
    const peer = await seeder('require')
    const client = createClient({ encryption: 'require' })
    clients.push(client)
    const { meta: fetched } = await client.fetchMetadata(parseMagnet(toMagnet(meta)), {
      announce: false,
      peers: [peer],
    }).done
    expect(fetched.infoHash).toBe(meta.infoHash)
  })
})

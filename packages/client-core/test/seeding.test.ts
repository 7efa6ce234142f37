// The upload side: our client seeding to our own leecher and to libtorrent's, on loopback.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTorrent, type Metainfo, parseTorrent } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import { describeWithTools, pseudoRandomBytes, startProcess } from '@bt/test-helpers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Client, createClient } from '../src/index.js'
import { filledMemoryStore } from './stores.js'

const content = pseudoRandomBytes(2 * 1024 * 1024 + 777, 'seeding')
let meta: Metainfo
let torrentBytes: Uint8Array
let seeder: Client

beforeAll(async () => {
  const created = await createTorrent(
    { path: ['seeded.bin'], length: content.length, source: content },
    { pieceLength: 32 * 1024 },
  )
  torrentBytes = created.torrent
  meta = parseTorrent(torrentBytes)
  seeder = createClient()
  await seeder.listen({ port: 0, host: '127.0.0.1' })
  seeder.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false })
})

afterAll(async () => {
  await seeder?.close()
})

describe('seeding to our own leecher', () => {
  it('serves every piece, verified on the other side', async () => {
    const leecher = createClient()
    try {
      const store = createMemoryStore(meta)
      const torrent = leecher.add(meta, {
        store,
        announce: false,
        peers: [{ host: '127.0.0.1', port: seeder.port }],
      })
      await torrent.done
      const pieces = await Promise.all(
        [...Array(meta.pieceCount).keys()].map((index) => store.readPiece(index)),
      )
      expect(Buffer.concat(pieces).equals(content)).toBe(true)
    } finally {
      await leecher.close()
    }
  })

  it('several leechers at once, one of them leaving midway', async () => {
    const leechers = [createClient(), createClient(), createClient()]
    try {
      const torrents = leechers.map((client) =>
        client.add(meta, {
          store: createMemoryStore(meta),
          announce: false,
          peers: [{ host: '127.0.0.1', port: seeder.port }],
        }),
      )
      torrents[0]!.once('piece', () => void leechers[0]!.close())
      await Promise.all(torrents.slice(1).map((torrent) => torrent.done))
      for (const torrent of torrents.slice(1)) expect(torrent.progress().piecesVerified).toBe(meta.pieceCount)
    } finally {
      await Promise.all(leechers.map((client) => client.close()))
    }
  })
})

describe('rate limits', () => {
  // 2 MiB at 512 KiB/s with a one-second burst cannot take less than ~3 s; only a lower bound is checked.
  const limit = 512 * 1024

  it('an upload limit on the seeder slows the transfer to it', async () => {
    const limited = createClient({ uploadLimit: limit })
    const leecher = createClient()
    try {
      await limited.listen({ port: 0, host: '127.0.0.1' })
      limited.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false })
      const started = Date.now()
      const torrent = leecher.add(meta, {
        store: createMemoryStore(meta),
        announce: false,
        peers: [{ host: '127.0.0.1', port: limited.port }],
      })
      await torrent.done
      expect(Date.now() - started).toBeGreaterThan(2500)
    } finally {
      await leecher.close()
      await limited.close()
    }
  }, 30_000)

  it('a download limit on the leecher slows the transfer too', async () => {
    const leecher = createClient()
    try {
      const started = Date.now()
      const torrent = leecher.add(meta, {
        store: createMemoryStore(meta),
        announce: false,
        downloadLimit: limit,
        peers: [{ host: '127.0.0.1', port: seeder.port }],
      })
      await torrent.done
      expect(Date.now() - started).toBeGreaterThan(2500)
    } finally {
      await leecher.close()
    }
  }, 30_000)

  it('a download limit holds across several peers', async () => {
    // Resuming many paused peers at once must not let all their buffered blocks through.
    const seeders = [createClient(), createClient()]
    const leecher = createClient({ downloadLimit: limit })
    try {
      for (const client of seeders) {
        await client.listen({ port: 0, host: '127.0.0.1' })
        client.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false })
      }
      const started = Date.now()
      const torrent = leecher.add(meta, {
        store: createMemoryStore(meta),
        announce: false,
        peers: [seeder, ...seeders].map((client) => ({ host: '127.0.0.1', port: client.port })),
      })
      await torrent.done
      expect(Date.now() - started).toBeGreaterThan(2500)
    } finally {
      await leecher.close()
      await Promise.all(seeders.map((client) => client.close()))
    }
  }, 30_000)
})

describeWithTools(['py:libtorrent'], 'seeding to libtorrent', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-seed-lt-'))
    await writeFile(join(dir, 'seeded.torrent'), torrentBytes)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('libtorrent downloads the whole torrent from us, byte-identical', async () => {
    const script = fileURLToPath(new URL('../../../tooling/test-helpers/scripts/lt_seed.py', import.meta.url))
    const leech = startProcess('/usr/bin/python3', [
      script,
      'leech',
      '--torrent',
      join(dir, 'seeded.torrent'),
      '--save-path',
      join(dir, 'out'),
      '--peer',
      `127.0.0.1:${seeder.port}`,
      '--timeout',
      '60',
    ])
    try {
      const code = await leech.exited
      expect(code, leech.output()).toBe(0)
      expect(leech.output()).toContain('"event": "done"')
      expect((await readFile(join(dir, 'out', 'seeded.bin'))).equals(content)).toBe(true)
    } finally {
      await leech.stop()
    }
  }, 90_000)
})

// Web seeds as sources of a torrent (BEP 19), served by Debian's nginx: a torrent whose only source is
// its web seed downloads, single- and multi-file (unicode names, a 0-byte file); a web seed next to a
// libtorrent peer; and a web seed serving corrupt bytes next to an honest peer: the download completes,
// verified, and the seed is dropped for that file.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTorrent, type Metainfo, parseTorrent } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import {
  describeWithTools,
  type LoopbackNginx,
  pseudoRandomBytes,
  startLibtorrentSeeder,
  startNginx,
} from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Alert, createClient } from '../src/index.js'

const KIB = 1024
const FILES: Record<string, number> = {
  'a.bin': 300 * KIB + 5,
  'dir/ünï.bin': 200 * KIB + 77,
  'empty.txt': 0,
  'z.bin': 90_000,
}

async function writeTree(root: string, files: Record<string, Uint8Array>): Promise<void> {
  for (const [path, bytes] of Object.entries(files)) {
    const parts = path.split('/')
    await mkdir(join(root, ...parts.slice(0, -1)), { recursive: true, mode: 0o755 })
    await writeFile(join(root, ...parts), bytes, { mode: 0o644 })
  }
}

describeWithTools(['nginx', 'py:libtorrent'], 'web seeds as a torrent source', () => {
  let dir: string
  let nginx: LoopbackNginx
  const single = pseudoRandomBytes(500 * KIB + 3, 'web-single')
  const content = Object.fromEntries(
    Object.entries(FILES).map(([path, length]) => [path, pseudoRandomBytes(length, `web-${path}`)]),
  )

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-webseeding-'))
    await chmod(dir, 0o755)
    // What nginx serves: good/set/… and bad/set/… (z.bin corrupted there).
    await writeTree(join(dir, 'www', 'good', 'set'), content)
    const corrupt = Buffer.from(content['z.bin']!)
    corrupt[1000] = corrupt[1000]! ^ 0xff
    await writeTree(join(dir, 'www', 'bad', 'set'), { ...content, 'z.bin': corrupt })
    await writeTree(join(dir, 'seed', 'set'), content)
    await writeTree(join(dir, 'www', 'good'), { 'single.bin': single })
    await writeTree(join(dir, 'seed'), { 'single.bin': single })
    nginx = await startNginx(join(dir, 'www'))
  }, 60_000)

  afterAll(async () => {
    await nginx?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  async function torrentWith(webSeeds: string[]): Promise<{ meta: Metainfo; path: string }> {
    const created = await createTorrent(join(dir, 'seed', 'set'), { pieceLength: 32 * KIB, webSeeds })
    const path = join(dir, `set-${Math.random().toString(36).slice(2)}.torrent`)
    await writeFile(path, created.torrent)
    return { meta: parseTorrent(created.torrent), path }
  }

  function expectContent(meta: Metainfo, store: ReturnType<typeof createMemoryStore>) {
    return Promise.all(
      meta.files.map(async (file) => {
        if (file.length === 0) return
        const bytes = Buffer.alloc(file.length)
        for (let at = 0; at < file.length; ) {
          const offset = file.offset + at
          const index = Math.floor(offset / meta.pieceLength)
          const begin = offset - index * meta.pieceLength
          const length = Math.min(file.length - at, meta.layout.pieceLengthAt(index) - begin)
          bytes.set(await store.readBlock(index, begin, length), at)
          at += length
        }
        expect(Buffer.compare(bytes, content[file.path.join('/')]!), file.path.join('/')).toBe(0)
      }),
    )
  }

  it('downloads a multi-file torrent whose only source is its web seed', async () => {
    const { meta } = await torrentWith([`${nginx.url}good/`])
    const client = createClient()
    try {
      const store = createMemoryStore(meta)
      const torrent = client.add(meta, { store, announce: false })
      await torrent.done
      expect(torrent.progress().downloadedBytes).toBeGreaterThanOrEqual(meta.length)
      await expectContent(meta, store)
    } finally {
      await client.close()
    }
  }, 60_000)

  it('downloads a single-file torrent from a web seed URL ending in / (the name is appended)', async () => {
    const created = await createTorrent(join(dir, 'seed', 'single.bin'), {
      pieceLength: 64 * KIB,
      webSeeds: [`${nginx.url}good/`],
    })
    const meta = parseTorrent(created.torrent)
    const client = createClient()
    try {
      const store = createMemoryStore(meta)
      await client.add(meta, { store, announce: false }).done
      const pieces = await Promise.all(
        [...Array(meta.pieceCount).keys()].map((index) => store.readPiece(index)),
      )
      expect(Buffer.compare(Buffer.concat(pieces), single)).toBe(0)
    } finally {
      await client.close()
    }
  }, 60_000)

  it('a corrupt web seed next to an honest libtorrent peer: completes, and the seed loses that file', async () => {
    const { meta, path } = await torrentWith([`${nginx.url}bad/`])
    const seeder = await startLibtorrentSeeder({
      torrentPath: path,
      savePath: join(dir, 'seed'),
      host: '127.0.0.2',
    })
    const client = createClient()
    try {
      const store = createMemoryStore(meta)
      // The web seed alone first, so it surely sends z.bin's bad piece; the peer comes once it failed.
      const torrent = client.add(meta, { store, announce: false })
      const alerts: Alert[] = []
      torrent.on('alert', (alert) => {
        alerts.push(alert)
        if (alert.type === 'piece-failed') torrent.addPeers([{ host: seeder.host, port: seeder.port }])
      })
      await torrent.done
      await expectContent(meta, store)
      const z = meta.files.findIndex((file) => file.path.join('/') === 'z.bin')
      const dropped = alerts.filter((alert) => alert.type === 'web-seed-dropped')
      expect(dropped.some((alert) => alert.type === 'web-seed-dropped' && alert.fileIndex === z)).toBe(true)
      expect(alerts.filter((alert) => alert.type === 'peer-banned')).toEqual([])
    } finally {
      await client.close()
      await seeder.stop()
    }
  }, 60_000)
})

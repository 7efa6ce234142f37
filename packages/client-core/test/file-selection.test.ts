// Choosing files against a real libtorrent seeder: skipped files are never created and their pieces
// never fetched but for the edge pieces a wanted file shares; progress counts wanted bytes; a file
// wanted after all is completed while the torrent runs, without fetching again what is verified.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTorrent, type Metainfo, parseTorrent } from '@bt/metainfo'
import { createFileStore } from '@bt/piece-store'
import {
  describeWithTools,
  type LibtorrentSeeder,
  pseudoRandomBytes,
  startLibtorrentSeeder,
} from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createClient } from '../src/index.js'

const KIB = 1024
// 64 KiB pieces; b.bin starts and ends inside pieces it shares with a.bin and c.bin.
const FILES = [
  { name: 'a.bin', length: 300 * KIB + 123 },
  { name: 'b.bin', length: 500 * KIB + 4567 },
  { name: 'c.bin', length: 200 * KIB + 89 },
]

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

describeWithTools(['py:libtorrent'], 'file selection with a libtorrent seeder', () => {
  let dir: string
  let meta: Metainfo
  let seeder: LibtorrentSeeder
  const content = FILES.map((file) => pseudoRandomBytes(file.length, `select-${file.name}`))

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-select-'))
    await mkdir(join(dir, 'seed', 'set'), { recursive: true })
    for (const [index, file] of FILES.entries())
      await writeFile(join(dir, 'seed', 'set', file.name), content[index]!)
    const created = await createTorrent(join(dir, 'seed', 'set'), { pieceLength: 64 * KIB })
    await writeFile(join(dir, 'set.torrent'), created.torrent)
    meta = parseTorrent(created.torrent)
    seeder = await startLibtorrentSeeder({
      torrentPath: join(dir, 'set.torrent'),
      savePath: join(dir, 'seed'),
      host: '127.0.0.2',
    })
  })
  afterAll(async () => {
    await seeder?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('skips a file, then completes it when it is wanted after all', async () => {
    const order = meta.files.map((file) => file.path.join('/'))
    const b = order.indexOf('b.bin')
    const client = createClient()
    const out = join(dir, 'out')
    try {
      const store = await createFileStore(meta, { directory: out })
      const priorities = meta.files.map((_, index) => (index === b ? ('skip' as const) : ('normal' as const)))
      const torrent = client.add(meta, {
        store,
        peers: [{ host: seeder.host, port: seeder.port }],
        announce: false,
        filePriorities: priorities,
        seed: true,
      })
      await torrent.done
      const wanted = FILES.filter((file) => file.name !== 'b.bin').reduce((sum, file) => sum + file.length, 0)
      expect(torrent.progress()).toMatchObject({ wantedBytes: wanted, verifiedBytes: wanted })
      expect(await exists(join(out, 'set', 'b.bin'))).toBe(false)
      for (const name of ['a.bin', 'c.bin']) {
        const index = FILES.findIndex((file) => file.name === name)
        expect(Buffer.compare(await readFile(join(out, 'set', name)), content[index]!)).toBe(0)
      }
      // b.bin's edge pieces were verified but are held only in part: not complete in the store.
      const [first, last] = meta.layout.piecesForFile(b)!
      expect(store.have.has(first)).toBe(false)
      expect(store.have.has(last)).toBe(false)
      const fetched = torrent.progress().downloadedBytes
      // Middle pieces of b.bin were never fetched.
      expect(fetched).toBeLessThan(wanted + 3 * meta.pieceLength)

      torrent.setFilePriority(b, 'high')
      expect(torrent.fileProgress().find((file) => file.index === b)).toMatchObject({ priority: 'high' })
      await new Promise<void>((resolve) => {
        const check = () => {
          if (store.have.complete) resolve()
          else setTimeout(check, 50)
        }
        check()
      })
      expect(Buffer.compare(await readFile(join(out, 'set', 'b.bin')), content[1]!)).toBe(0)
      const total = FILES.reduce((sum, file) => sum + file.length, 0)
      expect(torrent.progress()).toMatchObject({ wantedBytes: total, verifiedBytes: total })
      // What was verified before was not fetched again: b.bin and its two edge pieces at most.
      expect(torrent.progress().downloadedBytes - fetched).toBeLessThan(
        FILES[1]!.length + 2 * meta.pieceLength,
      )
    } finally {
      await client.close()
    }
  }, 60_000)
})

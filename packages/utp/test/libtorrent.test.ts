// Interop with libtorrent 2.0 (Debian's python3-libtorrent) speaking uTP only: we download whole
// torrents from its seeder, verifying every piece, and its leecher downloads a torrent from us.
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseTorrent } from '@bt/metainfo'
import {
  describeWithTools,
  makeTorrentWithLibtorrent,
  startLibtorrentSeeder,
  withTempDir,
  writeContentTree,
} from '@bt/test-helpers'
import { expect, it } from 'vitest'
import { createUtpSocket } from '../src/index.js'
import { downloadAll, readContent, servePieces, startLibtorrentLeecher, UTP_ONLY } from './bittorrent.js'
import { withTimeout } from './helpers.js'

describeWithTools(['py:libtorrent'], 'uTP interop with libtorrent', () => {
  const cases = [
    {
      name: 'a single-file torrent',
      files: [{ path: 'single.bin', length: 6 * 1024 * 1024 + 12_345 }],
      seeder: '127.0.50.10',
      us: '127.0.50.11',
    },
    {
      name: 'a multi-file torrent',
      files: [
        { path: 'multi/a.bin', length: 1_500_000 },
        { path: 'multi/sub/b.bin', length: 700_001 },
        { path: 'multi/c.bin', length: 2 * 1024 * 1024 },
      ],
      seeder: '127.0.50.12',
      us: '127.0.50.13',
    },
  ]
  for (const c of cases) {
    it(`downloads ${c.name} from a libtorrent seeder over uTP, every piece verified`, async () => {
      await withTempDir(async (dir) => {
        const written = await writeContentTree(join(dir, 'seed'), c.files, c.name)
        const contentPath = join(dir, 'seed', c.files[0]!.path.split('/')[0]!)
        const torrentPath = join(dir, 't.torrent')
        await makeTorrentWithLibtorrent({ contentPath, torrentPath, pieceLength: 64 * 1024 })
        const metainfo = parseTorrent(await readFile(torrentPath))
        const seeder = await startLibtorrentSeeder({
          torrentPath,
          savePath: join(dir, 'seed'),
          host: c.seeder,
          settings: UTP_ONLY,
        })
        const socket = await createUtpSocket({ host: c.us })
        try {
          const stream = await socket.connect(seeder.port, seeder.host, { timeoutMs: 10_000 })
          const got = await withTimeout(downloadAll(stream, metainfo), 60_000, 'download from libtorrent')
          expect(got.verifiedPieces).toBe(metainfo.pieceCount)
          expect(Buffer.from(got.remotePeerId).subarray(0, 8).toString()).toBe(seeder.peerIdPrefix)
          // In the torrent's file order, with libtorrent's v2-alignment pad files as zeros.
          const expected = Buffer.concat(
            metainfo.files.map((f) => {
              if (f.padding) return Buffer.alloc(f.length)
              const path = metainfo.multiFile ? [metainfo.name, ...f.path].join('/') : metainfo.name
              return written.get(path)!
            }),
          )
          expect(got.content.equals(expected)).toBe(true)
        } finally {
          await socket.close()
          await seeder.stop()
        }
      })
    }, 90_000)
  }

  it('serves a torrent to a libtorrent leecher that dials our uTP listener', async () => {
    await withTempDir(async (dir) => {
      const files = [{ path: 'served.bin', length: 3 * 1024 * 1024 + 999 }]
      await writeContentTree(join(dir, 'seed'), files, 'served')
      const torrentPath = join(dir, 't.torrent')
      await makeTorrentWithLibtorrent({
        contentPath: join(dir, 'seed', 'served.bin'),
        torrentPath,
        pieceLength: 32 * 1024,
      })
      const metainfo = parseTorrent(await readFile(torrentPath))
      const content = await readContent(metainfo, join(dir, 'seed'))
      const socket = await createUtpSocket({ host: '127.0.50.14' })
      const served: Promise<unknown>[] = []
      socket.on('connection', (stream) => {
        served.push(servePieces(stream, metainfo, content).catch((error: unknown) => error))
      })
      await mkdir(join(dir, 'leech'))
      const leecher = startLibtorrentLeecher({
        torrentPath,
        savePath: join(dir, 'leech'),
        host: '127.0.50.15',
        peer: `127.0.50.14:${socket.address().port}`,
      })
      try {
        await withTimeout(leecher.done, 60_000, 'libtorrent leecher')
        expect(served.length).toBeGreaterThan(0)
        const downloaded = await readFile(join(dir, 'leech', 'served.bin'))
        expect(downloaded.equals(content)).toBe(true)
      } finally {
        await leecher.process.stop()
        await socket.close()
      }
    })
  }, 90_000)
})

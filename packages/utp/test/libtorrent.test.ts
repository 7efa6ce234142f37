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
import { createUtpSocket, type UtpConnection } from '../src/index.js'
import { downloadAll, readContent, servePieces, startLibtorrentLeecher, UTP_ONLY } from './bittorrent.js'
import { withTimeout } from './helpers.js'
import { seededRandom, startLossyLink } from './lossy-link.js'

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

  it('downloads from a libtorrent seeder through a lossy link (2 % loss, 5 ms each way), every piece verified', async () => {
    await withTempDir(async (dir) => {
      const files = [{ path: 'lossy.bin', length: 3 * 1024 * 1024 }]
      await writeContentTree(join(dir, 'seed'), files, 'lossy')
      const torrentPath = join(dir, 't.torrent')
      await makeTorrentWithLibtorrent({
        contentPath: join(dir, 'seed', 'lossy.bin'),
        torrentPath,
        pieceLength: 64 * 1024,
      })
      const metainfo = parseTorrent(await readFile(torrentPath))
      const seeder = await startLibtorrentSeeder({
        torrentPath,
        savePath: join(dir, 'seed'),
        host: '127.0.50.16',
        settings: UTP_ONLY,
      })
      const link = await startLossyLink({
        frontHost: '127.0.50.17',
        backHost: '127.0.50.18',
        serverHost: seeder.host,
        serverPort: seeder.port,
        delayMs: 5,
        loss: 0.02,
        random: seededRandom(3),
      })
      const socket = await createUtpSocket({ host: '127.0.50.19' })
      try {
        const stream = await socket.connect(link.port, '127.0.50.17', { timeoutMs: 10_000 })
        const got = await withTimeout(
          downloadAll(stream, metainfo),
          80_000,
          'download through the lossy link',
        )
        expect(got.verifiedPieces).toBe(metainfo.pieceCount)
        // Its packets were lost too: it sent selective acks, which it sizes (span + 7) / 8 bytes.
        expect(link.dropped).toBeGreaterThan(10)
      } finally {
        await socket.close()
        await link.close()
        await seeder.stop()
      }
    })
  }, 100_000)

  const leecherCases = [
    { name: 'that dials our uTP listener', us: '127.0.50.14', leecher: '127.0.50.15', loss: 0 },
    // Here libtorrent sees holes in our stream and selective-acks them with masks of 1–3 bytes.
    {
      name: 'through a lossy link (2 % loss, 5 ms each way)',
      us: '127.0.50.20',
      leecher: '127.0.50.21',
      loss: 0.02,
    },
  ]
  for (const c of leecherCases) {
    it(`serves a torrent to a libtorrent leecher ${c.name}`, async () => {
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
        const socket = await createUtpSocket({ host: c.us })
        const served: Promise<unknown>[] = []
        const streams: UtpConnection[] = []
        socket.on('connection', (stream) => {
          streams.push(stream)
          served.push(servePieces(stream, metainfo, content).catch((error: unknown) => error))
        })
        const link =
          c.loss > 0
            ? await startLossyLink({
                frontHost: '127.0.50.22',
                backHost: '127.0.50.23',
                serverHost: c.us,
                serverPort: socket.address().port,
                delayMs: 5,
                loss: c.loss,
                random: seededRandom(11),
              })
            : undefined
        await mkdir(join(dir, 'leech'))
        const leecher = startLibtorrentLeecher({
          torrentPath,
          savePath: join(dir, 'leech'),
          host: c.leecher,
          peer: link ? `127.0.50.22:${link.port}` : `${c.us}:${socket.address().port}`,
        })
        try {
          await withTimeout(leecher.done, 60_000, 'libtorrent leecher').catch(async (error: Error) => {
            const states = streams.map((stream) => JSON.stringify(stream.stats()))
            const outcomes = await Promise.all(served.map((p) => Promise.race([p, 'pending'])))
            throw new Error(
              `${error.message}\nour side: ${states.join('\n')}\n${outcomes.map(String).join('\n')}`,
            )
          })
          expect(served.length).toBeGreaterThan(0)
          const downloaded = await readFile(join(dir, 'leech', 'served.bin'))
          expect(downloaded.equals(content)).toBe(true)
          if (link) expect(link.dropped).toBeGreaterThan(10)
        } finally {
          await leecher.process.stop()
          await socket.close()
          await link?.close()
        }
      })
    }, 90_000)
  }
})

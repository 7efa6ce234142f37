import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createClient } from '@bt/client-core'
import { type Metainfo, parseMagnet, parseTorrent } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import { startBittorrentTracker, withTempDir, writeContentTree } from '@bt/test-helpers'
import { describe, expect, it } from 'vitest'
import { SeederError, startSeeder } from '../src/index.js'

const files = [
  { path: 'readme.txt', length: 1000 },
  { path: 'data/a.bin', length: 300_000 },
  { path: 'data/b.bin', length: 77_777 },
]

/** Downloads `meta` with our engine into memory, finding peers only through its tracker (no peer given). */
async function downloadViaTracker(meta: Metainfo): Promise<Buffer> {
  const client = createClient()
  try {
    await client.listen({ port: 0, host: '127.0.0.1' })
    const store = createMemoryStore(meta)
    const torrent = client.add(meta, { store })
    await torrent.done
    const pieces: Uint8Array[] = []
    for (let index = 0; index < meta.pieceCount; index++) pieces.push(await store.readPiece(index))
    return Buffer.concat(pieces)
  } finally {
    await client.close()
  }
}

describe('startSeeder', () => {
  it('seeds a folder through a loopback tracker that a client finds it by', async () => {
    await withTempDir(async (dir) => {
      const content = join(dir, 'folder')
      const written = await writeContentTree(content, files)
      const seeder = await startSeeder({ path: content, pieceLength: 16_384 })
      try {
        expect(seeder.trackerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/announce$/)
        expect(seeder.host).toBe('127.0.0.1')
        const meta = parseTorrent(await readFile(seeder.torrentPath))
        expect(meta.infoHash).toBe(seeder.infoHash)
        expect(meta.name).toBe('folder')
        expect(meta.announce).toBe(seeder.trackerUrl)
        expect(meta.length).toBe(seeder.length)
        // Torrent order is by path: data/a.bin, data/b.bin, readme.txt.
        const expected = Buffer.concat(
          meta.files.map((file) => written.get(file.path.join('/')) ?? Buffer.alloc(0)),
        )
        expect(expected.length).toBe(meta.length)
        expect((await downloadViaTracker(meta)).equals(expected)).toBe(true)
      } finally {
        await seeder.stop()
      }
    })
  })

  it('gives a magnet link that parses back to the info hash, name and tracker', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'one file.bin')
      await writeContentTree(dir, [{ path: 'one file.bin', length: 50_000 }])
      const seeder = await startSeeder({ path, torrentPath: join(dir, 'out.torrent') })
      try {
        expect(seeder.torrentPath).toBe(join(dir, 'out.torrent'))
        const magnet = parseMagnet(seeder.magnet)
        expect(magnet.infoHash).toBe(seeder.infoHash)
        expect(magnet.name).toBe('one file.bin')
        expect(magnet.trackers).toEqual([seeder.trackerUrl])
      } finally {
        await seeder.stop()
      }
      // The torrent asked for is the caller's: stop() leaves it.
      await expect(readFile(join(dir, 'out.torrent'))).resolves.toBeInstanceOf(Buffer)
    })
  })

  it('announces to a given tracker instead of starting one', async () => {
    const tracker = await startBittorrentTracker()
    try {
      await withTempDir(async (dir) => {
        const written = await writeContentTree(dir, [{ path: 'payload.bin', length: 200_000 }])
        const seeder = await startSeeder({ path: join(dir, 'payload.bin'), trackerUrl: tracker.httpUrl })
        try {
          expect(seeder.trackerUrl).toBe(tracker.httpUrl)
          const meta = parseTorrent(await readFile(seeder.torrentPath))
          expect(meta.announceList).toEqual([[tracker.httpUrl]])
          expect((await downloadViaTracker(meta)).equals(written.get('payload.bin') ?? Buffer.alloc(0))).toBe(
            true,
          )
        } finally {
          await seeder.stop()
        }
        // A temporary .torrent goes away with the seeder.
        await expect(readFile(seeder.torrentPath)).rejects.toMatchObject({ code: 'ENOENT' })
      })
    } finally {
      await tracker.close()
    }
  })

  it('fails with TRACKER_FAILED when the given tracker does not answer', async () => {
    const tracker = await startBittorrentTracker()
    const deadUrl = tracker.httpUrl
    await tracker.close()
    await withTempDir(async (dir) => {
      await writeContentTree(dir, [{ path: 'x.bin', length: 1000 }])
      const error = await startSeeder({ path: join(dir, 'x.bin'), trackerUrl: deadUrl }).catch(
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(SeederError)
      expect(error).toMatchObject({ code: 'TRACKER_FAILED' })
      // Nothing is left behind, not even a .torrent the caller asked for.
      await expect(
        startSeeder({ path: join(dir, 'x.bin'), trackerUrl: deadUrl, torrentPath: join(dir, 'x.torrent') }),
      ).rejects.toMatchObject({ code: 'TRACKER_FAILED' })
      await expect(readFile(join(dir, 'x.torrent'))).rejects.toMatchObject({ code: 'ENOENT' })
    })
  })

  it('refuses a missing path and a tracker URL of another scheme', async () => {
    await withTempDir(async (dir) => {
      await expect(startSeeder({ path: join(dir, 'nothing') })).rejects.toMatchObject({
        code: 'INVALID_PATH',
      })
      await writeContentTree(dir, [{ path: 'x.bin', length: 10 }])
      await expect(
        startSeeder({ path: join(dir, 'x.bin'), trackerUrl: 'ws://127.0.0.1:1' }),
      ).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        option: 'trackerUrl',
      })
    })
  })
})

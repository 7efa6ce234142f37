// Reading a file while it downloads, from a slowed libtorrent seeder: a read far into the file gets its
// bytes long before the download is done (its pieces are fetched first), every byte is verified data,
// and a seek moves the window at once.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTorrent, type Metainfo, parseTorrent } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import {
  describeWithTools,
  type LibtorrentSeeder,
  pseudoRandomBytes,
  startLibtorrentSeeder,
} from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createClient, type Torrent, TorrentStoppedError } from '../src/index.js'

const KIB = 1024

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

describeWithTools(['py:libtorrent'], 'streaming reads from a slowed libtorrent seeder', () => {
  const content = pseudoRandomBytes(6 * 1024 * KIB + 777, 'stream-read')
  let dir: string
  let meta: Metainfo
  let seeder: LibtorrentSeeder

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-stream-'))
    await mkdir(join(dir, 'seed'))
    await writeFile(join(dir, 'seed', 'movie.bin'), content)
    const created = await createTorrent(join(dir, 'seed', 'movie.bin'), { pieceLength: 64 * KIB })
    await writeFile(join(dir, 'movie.torrent'), created.torrent)
    meta = parseTorrent(created.torrent)
    // 1 MiB/s: the whole file takes about 6 s, one piece about 60 ms.
    seeder = await startLibtorrentSeeder({
      torrentPath: join(dir, 'movie.torrent'),
      savePath: join(dir, 'seed'),
      host: '127.0.0.2',
      settings: { upload_rate_limit: 1024 * KIB, ignore_limits_on_local_network: false },
    })
  })
  afterAll(async () => {
    await seeder?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  function start(): { torrent: Torrent; close(): Promise<void> } {
    const client = createClient()
    const torrent = client.add(meta, {
      store: createMemoryStore(meta),
      peers: [{ host: seeder.host, port: seeder.port }],
      announce: false,
    })
    return { torrent, close: () => client.close() }
  }

  it('a read near the end gets verified bytes long before the download is done; then a seek back', async () => {
    const { torrent, close } = start()
    try {
      const tailStart = content.length - 300 * KIB
      const tail = await readAll(torrent.read(0, tailStart, content.length))
      expect(Buffer.compare(tail, content.subarray(tailStart))).toBe(0)
      expect(torrent.progress().verifiedBytes).toBeLessThan(content.length / 2)
      // A seek into the middle: served next, ahead of the rest.
      const middle = Math.floor(content.length / 2)
      const part = await readAll(torrent.read(0, middle, middle + 200 * KIB))
      expect(Buffer.compare(part, content.subarray(middle, middle + 200 * KIB))).toBe(0)
      expect(torrent.progress().verifiedBytes).toBeLessThan(content.length)
      await torrent.done
    } finally {
      await close()
    }
  }, 60_000)

  it('a read ends when its signal aborts, and fails with TorrentStoppedError when the torrent stops', async () => {
    const { torrent, close } = start()
    const controller = new AbortController()
    const aborted = readAll(torrent.read(0, 0, content.length, { signal: controller.signal }))
    setTimeout(() => controller.abort(), 200)
    await expect(aborted).rejects.toThrow()
    const stopped = readAll(torrent.read(0, content.length - 1000, content.length))
    await close()
    await expect(stopped).rejects.toBeInstanceOf(TorrentStoppedError)
    expect(() => torrent.read(0, 0, content.length + 1)).toThrow(RangeError)
  }, 30_000)
})

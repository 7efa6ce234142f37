// The Torrent engine against a real libtorrent seeder on loopback, through a memory store: whole
// downloads, one piece on demand, pause/resume, and stop before the end.
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
import { createClient, DuplicateTorrentError, TorrentStoppedError } from '../src/index.js'

describeWithTools(['py:libtorrent'], 'Torrent with a libtorrent seeder', () => {
  const content = pseudoRandomBytes(3 * 1024 * 1024 + 12_345, 'torrent-engine')
  let meta: Metainfo
  let seeder: LibtorrentSeeder
  let peer: { host: string; port: number }
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-torrent-'))
    await mkdir(join(dir, 'seed'))
    await writeFile(join(dir, 'seed', 'payload.bin'), content)
    const created = await createTorrent(join(dir, 'seed', 'payload.bin'), { pieceLength: 64 * 1024 })
    await writeFile(join(dir, 'payload.torrent'), created.torrent)
    meta = parseTorrent(created.torrent)
    seeder = await startLibtorrentSeeder({
      torrentPath: join(dir, 'payload.torrent'),
      savePath: join(dir, 'seed'),
    })
    peer = { host: '127.0.0.1', port: seeder.port }
  })
  afterAll(async () => {
    await seeder?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('downloads every piece, verified, and reports progress', async () => {
    const client = createClient()
    try {
      const store = createMemoryStore(meta)
      const torrent = client.add(meta, { store, peers: [peer], announce: false })
      const verified: number[] = []
      torrent.on('piece', (index) => verified.push(index))
      await torrent.done
      expect(verified.sort((a, b) => a - b)).toEqual([...Array(meta.pieceCount).keys()])
      const pieces = await Promise.all(
        [...Array(meta.pieceCount).keys()].map((index) => store.readPiece(index)),
      )
      expect(Buffer.concat(pieces).equals(content)).toBe(true)
      const progress = torrent.progress()
      expect(progress.verifiedBytes).toBe(content.length)
      expect(progress.downloadedBytes).toBeGreaterThanOrEqual(content.length)
    } finally {
      await client.close()
    }
  })

  it('downloads only the piece asked for', async () => {
    const client = createClient()
    try {
      const store = createMemoryStore(meta)
      const last = meta.pieceCount - 1
      const torrent = client.add(meta, { store, peers: [peer], announce: false, onlyPiece: last })
      await torrent.done
      expect([...store.have.indices()]).toEqual([last])
      const piece = await store.readPiece(last)
      expect(Buffer.from(piece).equals(content.subarray(last * meta.pieceLength))).toBe(true)
    } finally {
      await client.close()
    }
  })

  it('pauses (no connections) and resumes to completion', async () => {
    const client = createClient()
    try {
      const torrent = client.add(meta, { store: createMemoryStore(meta), peers: [peer], announce: false })
      torrent.pause()
      expect(torrent.isPaused).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(torrent.progress().peers).toBe(0)
      torrent.resume()
      await torrent.done
      expect(torrent.progress().piecesVerified).toBe(meta.pieceCount)
    } finally {
      await client.close()
    }
  })

  it('downloads only pieces with a non-zero priority', async () => {
    const client = createClient()
    try {
      const store = createMemoryStore(meta)
      const priorities = Array.from({ length: meta.pieceCount }, (_, index) => (index % 2 === 0 ? 1 : 0))
      const torrent = client.add(meta, { store, peers: [peer], announce: false, piecePriorities: priorities })
      await torrent.done
      expect([...store.have.indices()]).toEqual(
        [...Array(meta.pieceCount).keys()].filter((index) => index % 2 === 0),
      )
      expect(torrent.progress().piecesWanted).toBe(Math.ceil(meta.pieceCount / 2))
    } finally {
      await client.close()
    }
  })

  it('stops when its signal aborts', async () => {
    const client = createClient()
    try {
      const controller = new AbortController()
      const torrent = client.add(meta, {
        store: createMemoryStore(meta),
        peers: [],
        announce: false,
        signal: controller.signal,
      })
      controller.abort()
      await expect(torrent.done).rejects.toBeInstanceOf(TorrentStoppedError)
    } finally {
      await client.close()
    }
  })

  it('rejects done when stopped before the end', async () => {
    const client = createClient()
    const torrent = client.add(meta, { store: createMemoryStore(meta), peers: [], announce: false })
    await client.close()
    await expect(torrent.done).rejects.toMatchObject({ name: 'TorrentStoppedError', infoHash: meta.infoHash })
  })

  it('remove() stops and forgets a torrent, deletes its data on request, and the torrent can come back', async () => {
    const client = createClient()
    try {
      const store = createMemoryStore(meta)
      const torrent = client.add(meta, { store, peers: [peer], announce: false })
      expect(() => client.add(meta, { store: createMemoryStore(meta), announce: false })).toThrow(
        DuplicateTorrentError,
      )
      await new Promise<void>((resolve) => torrent.once('piece', () => resolve()))
      expect(store.have.count).toBeGreaterThan(0)
      await client.remove(torrent, { deleteData: true })
      await expect(torrent.done).rejects.toBeInstanceOf(TorrentStoppedError)
      expect(client.get(meta.infoHash)).toBeUndefined()
      expect(client.torrents).toEqual([])
      expect(torrent.progress().peers).toBe(0)
      // The memory store was destroyed with the data: nothing of the download is left.
      expect(store.have.count).toBe(0)
      const again = client.add(meta, { store: createMemoryStore(meta), peers: [peer], announce: false })
      expect(client.get(meta.infoHash)).toBe(again)
      await again.done
    } finally {
      await client.close()
    }
  })
})

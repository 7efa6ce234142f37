import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@bt/client-core'
import { createTorrent, parseTorrent, toMagnet } from '@bt/metainfo'
import {
  describeWithTools,
  type LibtorrentSeeder,
  pseudoRandomBytes,
  startLibtorrentSeeder,
  writeContentTree,
} from '@bt/test-helpers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSession, type Session, type SessionTorrent } from '../src/index.js'

const PIECE = 32 * 1024
/** A bound on each wait, so a broken run fails instead of hanging; never an assertion on speed. */
const WAIT_MS = 60_000

/** Resolves once `predicate` holds for torrent `id` (checked now and on every change). */
function until(session: Session, id: number, predicate: (torrent: SessionTorrent) => boolean) {
  return new Promise<SessionTorrent>((resolve, reject) => {
    const check = () => {
      const torrent = session.get(id)
      if (torrent && predicate(torrent)) {
        finish()
        resolve(torrent)
      }
    }
    const timer = setTimeout(() => {
      finish()
      const torrent = session.get(id)
      reject(new Error(`torrent ${id} still ${torrent?.status} (${torrent?.error ?? 'no error'})`))
    }, WAIT_MS)
    const finish = () => {
      clearTimeout(timer)
      session.off('changed', check)
    }
    session.on('changed', check)
    check()
  })
}

describe('session settings', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'bt-session-settings-'))
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })
  const open = (state: string, extra: Partial<Parameters<typeof openSession>[0]> = {}) =>
    openSession({ stateDir: state, downloadDir: join(root, 'downloads'), host: '127.0.0.1', ...extra })

  it('persists changes in settings.json, rejects bad ones whole, and lets a caller override at open', async () => {
    const state = join(root, 'state')
    const first = await open(state)
    expect(first.settings.downloadDir).toBe(join(root, 'downloads'))
    await first.setSettings({ uploadLimit: { value: 50_000, enabled: true }, peerLimitPerTorrent: 7 })
    await expect(first.setSettings({ peerPort: 70_000, peerLimitGlobal: 3 })).rejects.toThrow(/peerPort/)
    expect(first.settings.peerLimitGlobal).toBe(200)
    const { torrent } = await first.add(
      { magnet: toMagnet({ infoHash: 'cd'.repeat(20), name: 'x' }) },
      { paused: true },
    )
    expect(torrent.peerLimit).toBe(7)
    await first.setPeerLimit(torrent.id, 3)
    await first.close()

    const second = await open(state, { settings: { dhtEnabled: false } })
    try {
      expect(second.settings.uploadLimit).toEqual({ value: 50_000, enabled: true })
      expect(second.settings.peerLimitPerTorrent).toBe(7)
      expect(second.settings.dhtEnabled).toBe(false)
      expect(second.get(torrent.id)?.peerLimit).toBe(3)
      const saved = JSON.parse(await readFile(join(state, 'settings.json'), 'utf8'))
      expect(saved.dhtEnabled).toBe(false)
      // startAddedTorrents off: an add that does not say is added stopped.
      await second.setSettings({ startAddedTorrents: false })
      const next = await second.add({ magnet: toMagnet({ infoHash: 'ce'.repeat(20), name: 'y' }) })
      expect(next.torrent.status).toBe('stopped')
    } finally {
      await second.close()
    }
  })

  it('reads a damaged settings.json field by field, warning about what it drops', async () => {
    const state = join(root, 'damaged')
    await mkdir(state, { recursive: true })
    await writeFile(join(state, 'settings.json'), JSON.stringify({ peerPort: 'nope', pexEnabled: false }))
    const warnings: Error[] = []
    const session = await open(state, { onWarning: (error) => warnings.push(error) })
    try {
      expect(session.settings.peerPort).toBe(51413)
      expect(session.settings.pexEnabled).toBe(false)
      expect(warnings.map((w) => w.name)).toEqual(['StateDirError'])
    } finally {
      await session.close()
    }
    await writeFile(join(state, 'settings.json'), '{not json')
    const again = await open(state, { onWarning: (error) => warnings.push(error) })
    await again.close()
    expect(warnings).toHaveLength(2)
  })
})

describeWithTools(['py:libtorrent'], 'a session downloading from libtorrent', () => {
  let root: string
  let alpha: Uint8Array
  let beta: Uint8Array
  let alphaBytes: Buffer
  let seederA: LibtorrentSeeder
  let seederB: LibtorrentSeeder
  let peerA: string
  let peerB: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'bt-session-'))
    const seed = join(root, 'seed')
    alphaBytes = pseudoRandomBytes(4 * 1024 * 1024 + 1234, 'alpha')
    await writeContentTree(seed, [
      { path: 'beta/one.bin', length: 700_000 },
      { path: 'beta/two/three.bin', length: 900_001 },
    ])
    await writeFile(join(seed, 'alpha.bin'), alphaBytes)
    alpha = (await createTorrent(join(seed, 'alpha.bin'), { pieceLength: PIECE })).torrent
    beta = (await createTorrent(join(seed, 'beta'), { pieceLength: PIECE })).torrent
    await writeFile(join(root, 'alpha.torrent'), alpha)
    await writeFile(join(root, 'beta.torrent'), beta)
    ;[seederA, seederB] = await Promise.all([
      startLibtorrentSeeder({ torrentPath: join(root, 'alpha.torrent'), savePath: seed, host: '127.0.0.2' }),
      startLibtorrentSeeder({ torrentPath: join(root, 'beta.torrent'), savePath: seed, host: '127.0.0.3' }),
    ])
    peerA = `${seederA.host}:${seederA.port}`
    peerB = `${seederB.host}:${seederB.port}`
  })

  afterAll(async () => {
    await Promise.all([seederA?.stop(), seederB?.stop()])
    await rm(root, { recursive: true, force: true })
  })

  const stateDir = () => join(root, 'state')
  const downloads = () => join(root, 'downloads')
  let doneDownloadedEver = 0

  it('adds a torrent that downloads, verifies and seeds; stops and starts it; ids count from 1', async () => {
    const session = await openSession({ stateDir: stateDir(), downloadDir: downloads() })
    try {
      const added = await session.add({ torrent: alpha }, { peers: [peerA] })
      expect(added.kind).toBe('added')
      expect(added.torrent.id).toBe(1)
      // The add is on disk before it resolves.
      const ih = added.torrent.infoHash
      expect(existsSync(join(stateDir(), 'torrents', `${ih}.torrent`))).toBe(true)
      expect(existsSync(join(stateDir(), 'torrents', `${ih}.json`))).toBe(true)
      const done = await until(session, 1, (t) => t.status === 'seeding')
      expect(done.doneAt).toBeInstanceOf(Date)
      expect(done.progress?.piecesVerified).toBe(done.progress?.piecesWanted)
      expect(await readFile(join(downloads(), 'alpha.bin'))).toEqual(alphaBytes)
      expect((await session.add({ torrent: alpha })).kind).toBe('duplicate')

      await session.stop(1)
      expect(session.get(1)?.status).toBe('stopped')
      expect(session.get(1)?.progress).toBeUndefined()
      await session.start(1)
      await until(session, 1, (t) => t.status === 'seeding')

      const second = await session.add({ torrent: beta }, { peers: [peerB], paused: true })
      expect(second.torrent.id).toBe(2)
      expect(second.torrent.status).toBe('stopped')
      expect(session.get(second.torrent.infoHash)).toBe(second.torrent)
      doneDownloadedEver = session.get(1)!.downloadedEver
      expect(doneDownloadedEver).toBeGreaterThan(0)
    } finally {
      await session.close()
    }
  })

  it('reopens with the same torrents and ids: stopped stays stopped, done stays done without downloading', async () => {
    const session = await openSession({ stateDir: stateDir(), downloadDir: downloads() })
    try {
      expect(session.torrents().map((t) => t.id)).toEqual([1, 2])
      expect(session.get(2)?.status).toBe('stopped')
      const seeding = await until(session, 1, (t) => t.status === 'seeding')
      expect(seeding.downloadedEver).toBe(doneDownloadedEver)
      expect(seeding.progress?.downloadedBytes).toBe(0)

      await session.start(2)
      await until(session, 2, (t) => t.status === 'seeding')
      expect(session.get(2)?.files?.map((f) => f.verifiedBytes)).toEqual([700_000, 900_001])

      // Remove with data: its files and state are gone; without: the files stay.
      const removedAt = new Date()
      const betaHash = session.get(2)!.infoHash
      await session.remove(2, { deleteData: true })
      expect(existsSync(join(downloads(), 'beta'))).toBe(false)
      expect(await readdir(join(stateDir(), 'torrents'))).not.toContain(`${betaHash}.json`)
      expect(existsSync(join(stateDir(), 'resume', `${betaHash}.bt-resume`))).toBe(false)
      await session.remove(1)
      expect(existsSync(join(downloads(), 'alpha.bin'))).toBe(true)
      expect(session.removedSince(removedAt).sort()).toEqual([1, 2])
      expect(session.torrents()).toEqual([])
      // Ids are never reused in a state dir.
      const again = await session.add({ torrent: beta }, { peers: [peerB], paused: true })
      expect(again.torrent.id).toBe(3)
      await session.remove(3)
    } finally {
      await session.close()
    }
  })

  it('stops seeding once idle for its idle limit, marks it finished, and a start clears that', async () => {
    const state = join(root, 'idle-state')
    const session = await openSession({
      stateDir: state,
      downloadDir: join(root, 'idle'),
      saveIntervalMs: 100,
    })
    try {
      const { torrent } = await session.add({ torrent: beta }, { peers: [peerB] })
      await until(session, torrent.id, (t) => t.status === 'seeding')
      expect(torrent.finished).toBe(false)
      // The session's idle limit is off by default: following it, the torrent seeds on.
      await session.setSeedLimits(torrent.id, { idleSeconds: 'session' })
      await session.setSettings({ seedIdleSeconds: { value: 1, enabled: true } })
      const stopped = await until(session, torrent.id, (t) => t.status === 'stopped')
      expect(stopped.finished).toBe(true)
      // Its own 'unlimited' beats the session's limit.
      await session.setSeedLimits(torrent.id, { idleSeconds: 'unlimited' })
      await session.start(torrent.id)
      expect(session.get(torrent.id)?.finished).toBe(false)
      await until(session, torrent.id, (t) => t.status === 'seeding')
      await new Promise((resolve) => setTimeout(resolve, 1500))
      expect(session.get(torrent.id)?.status).toBe('seeding')
    } finally {
      await session.close()
    }
    const record = JSON.parse(
      await readFile(join(state, 'torrents', `${parseTorrent(beta).infoHash}.json`), 'utf8'),
    )
    expect(record.seedLimits).toEqual({ ratio: 'session', idleSeconds: 'unlimited' })
  })

  it('moves a seeding torrent’s data to another dir and seeds on from there without downloading', async () => {
    const state = join(root, 'move-state')
    const from = join(root, 'move-from')
    const to = join(root, 'move-to')
    const session = await openSession({ stateDir: state, downloadDir: from })
    try {
      const { torrent } = await session.add({ torrent: beta }, { peers: [peerB] })
      await until(session, torrent.id, (t) => t.status === 'seeding')
      await session.setLocation(torrent.id, to, { move: true })
      expect(existsSync(join(from, 'beta'))).toBe(false)
      expect((await readFile(join(to, 'beta', 'two', 'three.bin'))).length).toBe(900_001)
      const moved = await until(session, torrent.id, (t) => t.status === 'seeding')
      expect(moved.downloadDir).toBe(to)
      expect(moved.progress?.downloadedBytes).toBe(0)
      // Pointing it (without a move) at a dir with no data: the check finds nothing, so it downloads again.
      await session.setLocation(torrent.id, from)
      expect(session.get(torrent.id)?.verifiedBytes).toBe(0)
      await until(session, torrent.id, (t) => t.status === 'seeding')
      expect((await readFile(join(from, 'beta', 'one.bin'))).length).toBe(700_000)
      // A move never lands on data already there.
      await expect(session.setLocation(torrent.id, to, { move: true })).rejects.toThrow(/already there/)
      expect(session.get(torrent.id)?.downloadDir).toBe(from)
    } finally {
      await session.close()
    }
  })

  it('renames a file and the torrent’s folder on disk, seeds on without downloading, and keeps it', async () => {
    const state = join(root, 'rename-state')
    const dir = join(root, 'rename')
    const first = await openSession({ stateDir: state, downloadDir: dir })
    const { torrent } = await first.add({ torrent: beta }, { peers: [peerB] })
    const id = torrent.id
    try {
      await until(first, id, (t) => t.status === 'seeding')
      await first.renamePath(id, 'beta/two/three.bin', 'drei.bin')
      await first.renamePath(id, 'beta', 'gamma')
      expect(torrent.name).toBe('gamma')
      expect(torrent.filePaths).toEqual([
        ['gamma', 'one.bin'],
        ['gamma', 'two', 'drei.bin'],
      ])
      expect((await readFile(join(dir, 'gamma', 'two', 'drei.bin'))).length).toBe(900_001)
      expect(existsSync(join(dir, 'beta'))).toBe(false)
      const seeding = await until(first, id, (t) => t.status === 'seeding')
      expect(seeding.progress?.downloadedBytes).toBe(0)
      // Names that are not one plain component, unknown paths and clashes are refused, nothing renamed.
      await expect(first.renamePath(id, 'gamma/one.bin', '../x')).rejects.toThrow(RangeError)
      await expect(first.renamePath(id, 'gamma/../x', 'y')).rejects.toThrow(RangeError)
      await expect(first.renamePath(id, 'gamma/nothing', 'y')).rejects.toThrow(/no file or folder/)
      await expect(first.renamePath(id, 'gamma/two', 'one.bin')).rejects.toThrow(/already has/)
    } finally {
      await first.close()
    }
    const second = await openSession({ stateDir: state, downloadDir: dir })
    try {
      const back = await until(second, id, (t) => t.status === 'seeding')
      expect(back.name).toBe('gamma')
      expect(back.progress?.downloadedBytes).toBe(0)
      expect(back.progress?.piecesVerified).toBe(back.progress?.piecesWanted)
    } finally {
      await second.close()
    }
  })

  it('queues the second download while the first runs (maxActiveDownloads 1)', async () => {
    const client = createClient()
    await client.listen({ port: 0, host: '127.0.0.1' })
    const session = await openSession({
      stateDir: join(root, 'queue-state'),
      downloadDir: join(root, 'queue-downloads'),
      client,
      // Slow enough that the first is still downloading when the second is added.
      settings: {
        downloadQueue: { value: 1, enabled: true },
        downloadLimit: { value: 1024 * 1024, enabled: true },
      },
    })
    const overlaps: string[] = []
    session.on('changed', () => {
      const running = session.torrents().filter((t) => t.status === 'downloading' || t.status === 'checking')
      if (running.length > 1) overlaps.push(running.map((t) => `${t.id}:${t.status}`).join(' '))
    })
    try {
      await session.add({ torrent: alpha }, { peers: [peerA] })
      const second = await session.add({ torrent: beta }, { peers: [peerB] })
      expect(second.torrent.status).toBe('queued')
      await until(session, 1, (t) => t.status === 'downloading')
      expect(session.get(2)?.status).toBe('queued')
      // Stopping the first lets the second run; the first, started again, waits for it.
      await session.stop(1)
      await until(session, 2, (t) => t.status !== 'queued')
      await session.start(1)
      expect(['queued', 'seeding']).toContain(session.get(1)?.status)
      await until(session, 2, (t) => t.status === 'seeding')
      await until(session, 1, (t) => t.status === 'seeding')
      await session.moveQueue(2, 'top')
      expect(session.get(2)?.queuePosition).toBe(0)
      expect(session.get(1)?.queuePosition).toBe(1)
      expect(overlaps).toEqual([])
    } finally {
      await session.close()
      await client.close()
    }
  })

  it('fetches a magnet link’s metadata from its x.pe peer and keeps it as a .torrent', async () => {
    const state = join(root, 'magnet-state')
    const meta = parseTorrent(alpha)
    const session = await openSession({ stateDir: state, downloadDir: join(root, 'magnet-downloads') })
    try {
      const magnet = toMagnet({ infoHash: meta.infoHash, name: 'alpha.bin', peers: [peerA] })
      const added = await session.add({ magnet })
      expect(added.torrent.meta).toBeUndefined()
      expect(['fetching-metadata', 'queued']).toContain(added.torrent.status)
      const done = await until(session, added.torrent.id, (t) => t.status === 'seeding')
      expect(done.meta?.infoHash).toBe(meta.infoHash)
      const kept = parseTorrent(await readFile(join(state, 'torrents', `${meta.infoHash}.torrent`)))
      expect(kept.infoHash).toBe(meta.infoHash)
      expect(Buffer.from(kept.infoBytes)).toEqual(Buffer.from(meta.infoBytes))
      expect(await readFile(join(root, 'magnet-downloads', 'alpha.bin'))).toEqual(alphaBytes)
    } finally {
      await session.close()
    }
  })

  it('keeps a magnet fetching its metadata across restarts', async () => {
    const state = join(root, 'lonely-state')
    const magnet = toMagnet({ infoHash: 'ab'.repeat(20), name: 'nowhere', peers: ['127.0.0.9:9'] })
    const first = await openSession({ stateDir: state, downloadDir: join(root, 'lonely') })
    const { torrent } = await first.add({ magnet })
    await until(first, torrent.id, (t) => t.status === 'fetching-metadata')
    await first.close()
    const second = await openSession({ stateDir: state, downloadDir: join(root, 'lonely') })
    try {
      const back = await until(second, torrent.id, (t) => t.status === 'fetching-metadata')
      expect(back.name).toBe('nowhere')
      expect(back.magnetLink).toBe(magnet)
    } finally {
      await second.close()
    }
  })

  it('shows a torrent whose files went missing as an error with the reason, and keeps running', async () => {
    const state = join(root, 'missing-state')
    const dir = join(root, 'missing-downloads')
    const first = await openSession({ stateDir: state, downloadDir: dir })
    const { torrent } = await first.add({ torrent: beta }, { peers: [peerB] })
    await until(first, torrent.id, (t) => t.status === 'seeding')
    await first.close()
    await rm(join(dir, 'beta'), { recursive: true })
    const second = await openSession({ stateDir: state, downloadDir: dir })
    try {
      const broken = await until(second, torrent.id, (t) => t.status === 'error')
      expect(broken.error).toContain(join(dir, 'beta'))
      // Verifying finds nothing on disk; the torrent then downloads again.
      await second.verify(torrent.id)
      await until(second, torrent.id, (t) => t.status === 'seeding')
    } finally {
      await second.close()
    }
  })

  it('survives SIGKILL mid-download: the torrent comes back, completes verified, and keeps what was saved', async () => {
    const state = join(root, 'crash-state')
    const dir = join(root, 'crash-downloads')
    const script = fileURLToPath(new URL('./crash-child.ts', import.meta.url))
    const totalPieces = parseTorrent(alpha).pieceCount
    const child: ChildProcess = spawn(
      process.execPath,
      ['--conditions=@bt/source', '--import', 'tsx', script, state, dir, join(root, 'alpha.torrent'), peerA],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const reports: { at: number; verified: number }[] = []
    // Killed once a random share (10–60 %) of the pieces is verified.
    const killAt = Math.ceil(totalPieces * (0.1 + Math.random() * 0.5))
    const killedAt = await new Promise<number>((resolve, reject) => {
      let buffered = ''
      const timer = setTimeout(() => reject(new Error('the child never got far enough')), WAIT_MS)
      child.on('exit', (code) => reject(new Error(`the child exited (${code})`)))
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        let newline = buffered.indexOf('\n')
        while (newline >= 0) {
          const line = JSON.parse(buffered.slice(0, newline)) as { at: number; verified?: number }
          buffered = buffered.slice(newline + 1)
          newline = buffered.indexOf('\n')
          if (line.verified === undefined) continue
          reports.push({ at: line.at, verified: line.verified })
          if (line.verified >= killAt) {
            clearTimeout(timer)
            child.removeAllListeners('exit')
            child.kill('SIGKILL')
            resolve(Date.now())
          }
        }
      })
    })
    await new Promise((resolve) => child.once('close', resolve))
    // Pieces verified well before the kill (resume data is checkpointed every 300 ms) must be kept.
    const durable = Math.max(0, ...reports.filter((r) => r.at <= killedAt - 2000).map((r) => r.verified))

    const session = await openSession({ stateDir: state, downloadDir: dir })
    try {
      expect(session.torrents().map((t) => t.id)).toEqual([1])
      const running = await until(session, 1, (t) => t.progress !== undefined)
      const keptPieces = running.progress!.piecesVerified
      const downloadedBefore = running.downloadedEver
      expect(keptPieces).toBeGreaterThanOrEqual(durable)
      const done = await until(session, 1, (t) => t.status === 'seeding')
      expect(await readFile(join(dir, 'alpha.bin'))).toEqual(alphaBytes)
      // What was kept is not fetched again: at most the missing pieces (twice, for end-game duplicates).
      const downloadedNow = done.downloadedEver - downloadedBefore
      expect(downloadedNow).toBeLessThanOrEqual((totalPieces - keptPieces) * PIECE * 2)
    } finally {
      await session.close()
    }
  })
})

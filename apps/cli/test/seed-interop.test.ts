// `bt seed` (a real process, from sources) serving libtorrent, Transmission, aria2 and our own
// `bt download`, found through a real tracker; several leechers at once, one leaving midway; incomplete
// content refused; Ctrl-C leaving the swarm; and `bt download --seed` serving once complete. Every
// download is compared byte for byte with the source.
import { cp, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import {
  describeWithTools,
  freeTcpAndUdpPort,
  type LoopbackTracker,
  startAria2,
  startBittorrentTracker,
  startLibtorrentSeeder,
  startTransmission,
} from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import {
  contentDifferences,
  startLibtorrentLeecher,
  stopBt,
  throttledDownload,
  waitForContent,
} from './leechers.js'
import { spawnBt } from './run-bt.js'
import {
  alerts,
  type BtProcess,
  freshDir,
  makeFixture,
  removeFixture,
  scrapeCounts,
  seedingEvent,
  sleep,
  spawnBtProcess,
  type TorrentFixture,
  waitForLeechers,
  waitForSeeders,
} from './swarm.js'

const KIB = 1024
/** Transmission unchokes and starts requesting on its ~10 s rechoke pulse. */
const TRANSMISSION_TIMEOUT = 60_000

// Nested directories, non-ASCII names, a 0-byte file; 3 MiB + 1337 bytes in 32 KiB pieces, so the last
// piece is short and several pieces straddle files.
const TREE = [
  { path: 'a.bin', length: 1024 * KIB + 100 },
  { path: 'empty.txt', length: 0 },
  { path: 'sub/deeper/c.bin', length: 70_001 },
  { path: 'é/ß.txt', length: 40_000 },
  { path: '日本/データ.bin', length: 2 * 1024 * KIB - 108_764 },
]

let tracker: LoopbackTracker
let multi: TorrentFixture
let single: TorrentFixture
const cleanups: (() => Promise<void>)[] = []

beforeAll(async () => {
  tracker = await startBittorrentTracker()
  multi = await makeFixture({ name: 'tree', pieceLength: 32 * KIB, announce: [tracker.httpUrl], files: TREE })
  single = await makeFixture({
    name: 'single.bin',
    pieceLength: 32 * KIB,
    announce: [tracker.httpUrl],
    length: 2 * 1024 * KIB + 777,
  })
})

afterEach(async () => {
  // Leechers, then seeders: in reverse order of start.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(async () => {
  await removeFixture(multi)
  await removeFixture(single)
  await tracker?.close()
})

interface RunningSeed {
  process: BtProcess
  port: number
}

/** `bt seed --json` on 127.0.0.1, resolved once it prints its `seeding` line; stopped after the test. */
async function startBtSeed(
  fixture: TorrentFixture,
  extra: readonly string[] = [],
  seedDir = fixture.seedDir,
): Promise<RunningSeed> {
  const process = spawnBtProcess(
    ['seed', fixture.torrentPath, seedDir, '--host', '127.0.0.1', '--json', ...extra],
    { cwd: fixture.root },
  )
  cleanups.push(async () => void (await stopBt(process)))
  const seeding = await seedingEvent(process)
  expect(seeding.infoHash).toBe(fixture.infoHash)
  expect(seeding.port).toBeGreaterThan(0)
  return { process, port: seeding.port }
}

function started<T extends { stop(): Promise<void> }>(peer: T): T {
  cleanups.push(() => peer.stop())
  return peer
}

/** The seeder's alerts (peers it dropped and why), for failure messages. */
function seedAlerts(seed: RunningSeed): string {
  return alerts(seed.process.events)
    .map((alert) => alert.message)
    .join('\n')
}

/** Uploaded bytes in the seeder's latest --json progress event. */
function uploaded(seed: RunningSeed): number {
  for (let i = seed.process.events.length - 1; i >= 0; i--) {
    const event = seed.process.events[i]!
    if (event.event === 'progress') return event.uploadedBytes
  }
  return 0
}

async function libtorrentDownloads(fixture: TorrentFixture, label: string, peers: string[] = []) {
  const dir = await freshDir(fixture, label)
  const leecher = started(
    startLibtorrentLeecher({ torrentPath: fixture.torrentPath, savePath: dir, peers, timeoutS: 45 }),
  )
  expect(await leecher.exited, leecher.process.output()).toBe(0)
  expect(leecher.done()).toBe(true)
  expect(await contentDifferences(fixture, dir)).toEqual([])
}

describeWithTools(['py:libtorrent'], 'bt seed to libtorrent', () => {
  it('serves a multi-file torrent (nested dirs, non-ASCII names, 0-byte file, short last piece)', async () => {
    await startBtSeed(multi)
    await waitForSeeders(tracker.httpUrl, multi.infoHash, 1)
    await libtorrentDownloads(multi, 'lt-multi')
  }, 60_000)

  it('serves a single-file torrent', async () => {
    const seed = await startBtSeed(single)
    await waitForSeeders(tracker.httpUrl, single.infoHash, 1)
    await libtorrentDownloads(single, 'lt-single')
    await expect.poll(() => uploaded(seed), { timeout: 5000 }).toBeGreaterThanOrEqual(single.length)
  }, 60_000)

  it('--seed-ratio 1: exits 0 by itself once a whole copy went out', async () => {
    const seed = await startBtSeed(single, ['--seed-ratio', '1'])
    await waitForSeeders(tracker.httpUrl, single.infoHash, 1)
    await libtorrentDownloads(single, 'lt-ratio')
    const exit = await Promise.race([seed.process.exited, sleep(15_000).then(() => undefined)])
    expect(exit, seed.process.output().stderr).toEqual({ code: 0, signal: null })
    const done = seed.process.events.find((event) => (event as { event: string }).event === 'seeding-done')
    expect(done).toMatchObject({ event: 'seeding-done', reason: 'ratio' })
    expect((done as unknown as { uploadedBytes: number }).uploadedBytes).toBeGreaterThanOrEqual(single.length)
  }, 60_000)
})

describeWithTools(['aria2c'], 'bt seed to aria2', () => {
  it('serves a multi-file torrent', async () => {
    const seed = await startBtSeed(multi)
    await waitForSeeders(tracker.httpUrl, multi.infoHash, 1)
    const dir = await freshDir(multi, 'aria2-multi')
    const aria2 = started(await startAria2({ torrentPath: multi.torrentPath, directory: dir, seed: false }))
    const code = await Promise.race([aria2.process.exited, sleep(30_000).then(() => 'timeout' as const)])
    expect(code, `${aria2.process.output()}\nseeder alerts:\n${seedAlerts(seed)}`).toBe(0)
    expect(await contentDifferences(multi, dir)).toEqual([])
  }, 60_000)
})

describeWithTools(['transmission-cli'], 'bt seed to Transmission', () => {
  it(
    'dials Transmission (which never dials loopback) and serves it a multi-file torrent',
    async () => {
      // Transmission announces first: our seeder hears of it in its first announce and dials it.
      // Leechers of earlier tests that left without a `stopped` stay listed: count from here.
      const before = (await scrapeCounts(tracker.httpUrl, multi.infoHash)).incomplete
      const dir = await freshDir(multi, 'transmission-multi')
      const transmission = started(
        await startTransmission({ torrentPath: multi.torrentPath, directory: dir }),
      )
      await waitForLeechers(tracker.httpUrl, multi.infoHash, before + 1)
      await startBtSeed(multi)
      const differences = await waitForContent(multi, dir, TRANSMISSION_TIMEOUT - 15_000, {
        allowMissingEmpty: true,
        stillRunning: () => transmission.process.child.exitCode === null,
      })
      expect(differences, transmission.process.output().slice(-1500)).toEqual([])
    },
    TRANSMISSION_TIMEOUT,
  )
})

describeWithTools(['py:libtorrent', 'aria2c'], 'bt seed to several leechers at once', () => {
  it('libtorrent, aria2 and bt download all complete; a libtorrent leecher killed midway disturbs none', async () => {
    const seed = await startBtSeed(multi)
    await waitForSeeders(tracker.httpUrl, multi.infoHash, 1)
    const seedAddress = `127.0.0.1:${seed.port}`
    const victimDir = await freshDir(multi, 'victim')
    const ltDir = await freshDir(multi, 'many-lt')
    const aria2Dir = await freshDir(multi, 'many-aria2')
    const btDir = await freshDir(multi, 'many-bt')
    // Each leecher on its own address (bt download dials from 127.0.0.1, where the seed listens), as in a
    // real swarm: whatever the seed keys on an IP, one leecher's fate is not another's.
    // Slow enough (≈ 12 s for the whole torrent) to be surely mid-transfer when it is killed.
    const victim = started(
      startLibtorrentLeecher({
        torrentPath: multi.torrentPath,
        savePath: victimDir,
        host: '127.0.0.3',
        peers: [seedAddress],
        settings: throttledDownload(256 * KIB),
      }),
    )
    // Throttled too, so it is still downloading when the victim goes.
    const lt = started(
      startLibtorrentLeecher({
        torrentPath: multi.torrentPath,
        savePath: ltDir,
        host: '127.0.0.4',
        peers: [seedAddress],
        settings: throttledDownload(1024 * KIB),
        timeoutS: 45,
      }),
    )
    const aria2 = started(
      await startAria2({
        torrentPath: multi.torrentPath,
        directory: aria2Dir,
        seed: false,
        host: '127.0.0.5',
      }),
    )
    const download = spawnBtProcess(
      ['download', multi.torrentPath, '-d', btDir, '--json', '--peer', seedAddress],
      {
        cwd: multi.root,
      },
    )
    cleanups.push(async () => void (await stopBt(download)))

    // Kill the victim once the seeder has sent a good part of a torrent's worth (≥ 256 KiB to it alone,
    // at its rate) but before it can be done.
    const deadline = Date.now() + 20_000
    while (uploaded(seed) < 512 * KIB && Date.now() < deadline) await sleep(100)
    await sleep(1000)
    expect(victim.done()).toBe(false)
    victim.process.child.kill('SIGKILL')
    const ltDoneAtKill = lt.done()

    const [ltCode, aria2Code, downloadExit] = await Promise.all([
      lt.exited,
      Promise.race([aria2.process.exited, sleep(30_000).then(() => 'timeout' as const)]),
      Promise.race([download.exited, sleep(30_000).then(() => 'timeout' as const)]),
    ])
    expect(ltCode, lt.process.output()).toBe(0)
    expect(aria2Code, `${aria2.process.output()}\nseeder alerts:\n${seedAlerts(seed)}`).toBe(0)
    expect(downloadExit, download.output().stderr).toEqual({ code: 0, signal: null })
    expect(download.events.at(-1)?.event).toBe('done')
    expect(ltDoneAtKill, 'the throttled libtorrent leecher was still downloading when the victim went').toBe(
      false,
    )
    for (const dir of [ltDir, aria2Dir, btDir]) expect(await contentDifferences(multi, dir)).toEqual([])
    expect(victim.done()).toBe(false)
    // The seeder lives on after all that.
    expect(seed.process.output().stderr).not.toMatch(/Error/)
    // At least one whole copy came from us (the leechers also trade pieces among themselves).
    await expect.poll(() => uploaded(seed), { timeout: 5000 }).toBeGreaterThanOrEqual(multi.length)
  }, 90_000)
})

describeWithTools(['py:libtorrent'], 'bt seed lifecycle', () => {
  it('refuses incomplete content: exit 1 and a message saying what is missing', async () => {
    const dir = await freshDir(multi, 'incomplete')
    await cp(multi.contentPath, join(dir, multi.name), { recursive: true })
    await truncate(join(dir, multi.name, '日本', 'データ.bin'), 100_000)
    const run = await spawnBt(['seed', multi.torrentPath, dir, '--json'], { cwd: multi.root })
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toMatch(/tree is incomplete at .* \(\d+\/\d+ pieces verified\): run bt download first/)
    expect(run.stdout).not.toContain('"seeding"')
  }, 30_000)

  it('Ctrl-C: exit 130 and the tracker no longer lists it as a seeder', async () => {
    // A torrent of its own, so no other test's seeder counts in the scrape.
    const own = await makeFixture({
      name: 'sigint.bin',
      pieceLength: 16 * KIB,
      announce: [tracker.httpUrl],
      length: 100_000,
    })
    cleanups.push(() => removeFixture(own))
    const seed = await startBtSeed(own)
    await waitForSeeders(tracker.httpUrl, own.infoHash, 1)
    const exit = await stopBt(seed.process)
    expect(exit, seed.process.output().stderr).toEqual({ code: 130, signal: null })
    // The `stopped` announce went out before the process exited.
    expect(await scrapeCounts(tracker.httpUrl, own.infoHash)).toEqual({ complete: 0, incomplete: 0 })
  }, 30_000)

  it('bt download --seed keeps serving once complete: libtorrent downloads from it', async () => {
    const source = started(
      await startLibtorrentSeeder({
        torrentPath: multi.torrentPath,
        savePath: multi.seedDir,
        host: '127.0.0.2',
      }),
    )
    const port = await freeTcpAndUdpPort()
    const dir = await freshDir(multi, 'download-seed')
    const download = spawnBtProcess(
      [
        'download',
        multi.torrentPath,
        '-d',
        dir,
        '--seed',
        '--port',
        `${port}`,
        '--peer',
        `${source.host}:${source.port}`,
      ],
      { cwd: multi.root },
    )
    cleanups.push(async () => void (await stopBt(download)))
    const deadline = Date.now() + 30_000
    while (!download.output().stdout.includes('Downloaded ')) {
      if (Date.now() > deadline) throw new Error(`no "Downloaded" line:\n${download.output().stderr}`)
      const exited = await Promise.race([download.exited, sleep(100).then(() => undefined)])
      if (exited) throw new Error(`bt download exited (${exited.code}):\n${download.output().stderr}`)
    }
    expect(download.output().stdout).toContain(`Downloaded ${multi.torrentPath} to ${join(dir, multi.name)}.`)
    expect(await contentDifferences(multi, dir)).toEqual([])
    // Only our client has the content now.
    await source.stop()
    await libtorrentDownloads(multi, 'from-download-seed', [`127.0.0.1:${port}`])
    const exit = await stopBt(download)
    expect(exit, download.output().stderr).toEqual({ code: 130, signal: null })
  }, 60_000)

  it('bt download --seed-time 2s downloads, seeds for 2 s and exits 0', async () => {
    const source = started(
      await startLibtorrentSeeder({
        torrentPath: single.torrentPath,
        savePath: single.seedDir,
        host: '127.0.0.2',
      }),
    )
    const dir = await freshDir(single, 'download-seed-time')
    const run = await spawnBt(
      [
        'download',
        single.torrentPath,
        '-d',
        dir,
        '--seed-time',
        '2s',
        '--peer',
        `${source.host}:${source.port}`,
      ],
      { cwd: single.root },
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`Downloaded ${single.torrentPath} to ${join(dir, single.name)}.`)
    expect(run.stdout).toMatch(/Stopped seeding: uploaded .* \(seed time reached\)\./)
    expect(await contentDifferences(single, dir)).toEqual([])
  }, 60_000)
})

// Peer exchange with libtorrent, both ways: `bt download` learns from the tracker of one peer only — a
// libtorrent leecher that is barely downloading — and finds the two seeders it is connected to through
// its BEP 11 messages; and a libtorrent leecher given only a `bt download` hub finds the seeders
// through ours. Either downloads everything from seeders nobody named to it.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTorrent } from '@bt/metainfo'
import {
  describeWithTools,
  freeTcpAndUdpPort,
  type LoopbackTracker,
  startBittorrentTracker,
} from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { contentDifferences, startLibtorrentLeecher, stopBt, throttledDownload } from './leechers.js'
import {
  bt,
  describeRun,
  freshDir,
  makeFixture,
  removeFixture,
  seedingEvent,
  spawnBtProcess,
  type TorrentFixture,
  waitForLeechers,
} from './swarm.js'

const KIB = 1024
// Every peer on its own loopback address, so PEX lists them as a real swarm's would.
const SEED_HOSTS = ['127.0.0.2', '127.0.0.3'] as const
const LIBTORRENT_HOST = '127.0.0.5'
let tracker: LoopbackTracker
let fixture: TorrentFixture
/** The same info dictionary with the tracker in it: what the hub and the leecher are given. */
let trackedTorrent: string
const cleanups: (() => Promise<void>)[] = []

beforeAll(async () => {
  tracker = await startBittorrentTracker()
  // No tracker in the seeders' torrent: nobody can learn of them from one.
  fixture = await makeFixture({ name: 'pex.bin', pieceLength: 32 * KIB, length: 6 * 1024 * KIB + 5 })
  const tracked = await createTorrent(fixture.contentPath, {
    pieceLength: 32 * KIB,
    announce: [tracker.httpUrl],
  })
  expect(tracked.infoHash).toBe(fixture.infoHash)
  trackedTorrent = join(fixture.root, 'tracked.torrent')
  await writeFile(trackedTorrent, tracked.torrent)
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(async () => {
  await removeFixture(fixture)
  await tracker?.close()
})

describeWithTools(['py:libtorrent'], 'peer exchange with libtorrent', () => {
  it('bt download finds the seeders through a libtorrent peer’s PEX and completes from them', async () => {
    const seeds = [await startBtSeed(SEED_HOSTS[0]), await startBtSeed(SEED_HOSTS[1])]
    // The hub downloads at 8 KiB/s: it stays connected to both seeders and has almost nothing to give.
    const hubDir = await freshDir(fixture, 'hub')
    const hub = startLibtorrentLeecher({
      torrentPath: trackedTorrent,
      savePath: hubDir,
      host: LIBTORRENT_HOST,
      peers: seeds,
      settings: throttledDownload(8 * KIB),
      timeoutS: 80,
    })
    cleanups.push(() => hub.stop())
    await waitForLeechers(tracker.httpUrl, fixture.infoHash, 1)
    const dir = await freshDir(fixture, 'leecher')
    const run = await bt(['download', trackedTorrent, '-d', dir, '--json'], { timeoutMs: 45_000 })
    expect(run.code, describeRun(run)).toBe(0)
    expect(await contentDifferences(fixture, dir)).toEqual([])
    const last = run.events.filter((event) => event.event === 'progress').at(-1)
    // The hub, both seeders (and perhaps ourselves, which libtorrent lists too): more than the tracker gave.
    expect(last && 'knownPeers' in last ? last.knownPeers : 0).toBeGreaterThanOrEqual(3)
  }, 90_000)

  it('a libtorrent leecher that knows only our hub finds the seeders through our PEX', async () => {
    const seeds = [await startBtSeed(SEED_HOSTS[0]), await startBtSeed(SEED_HOSTS[1])]
    // Our hub downloads at 8 KiB/s: connected to both seeders, with almost nothing to give.
    const hubPort = await freeTcpAndUdpPort()
    const hubDir = await freshDir(fixture, 'bt-hub')
    const hub = spawnBtProcess(
      [
        'download',
        fixture.torrentPath,
        '-d',
        hubDir,
        '--json',
        '--port',
        `${hubPort}`,
        '--download-limit',
        '8K',
        ...seeds.flatMap((seed) => ['--peer', seed]),
      ],
      { cwd: fixture.root },
    )
    cleanups.push(async () => void (await stopBt(hub)))
    await hub.waitFor((event) => event.event === 'progress' && event.peers >= 2, 30_000)
    const dir = await freshDir(fixture, 'lt-leecher')
    const leecher = startLibtorrentLeecher({
      torrentPath: fixture.torrentPath,
      savePath: dir,
      host: LIBTORRENT_HOST,
      peers: [`127.0.0.1:${hubPort}`],
      timeoutS: 45,
    })
    cleanups.push(() => leecher.stop())
    expect(
      await leecher.exited,
      `${leecher.process.output()}\nhub: ${JSON.stringify(hub.events.filter((e) => e.event !== 'progress').slice(-20))} ${JSON.stringify(hub.events.at(-1))}`,
    ).toBe(0)
    expect(leecher.done()).toBe(true)
    expect(await contentDifferences(fixture, dir)).toEqual([])
  }, 90_000)
})

/** `bt seed` of the tracker-less torrent on `host`; resolves with its `host:port`. */
async function startBtSeed(host: string): Promise<string> {
  const seed = spawnBtProcess(['seed', fixture.torrentPath, fixture.seedDir, '--host', host, '--json'], {
    cwd: fixture.root,
  })
  cleanups.push(async () => void (await stopBt(seed)))
  const seeding = await seedingEvent(seed)
  return `${host}:${seeding.port}`
}

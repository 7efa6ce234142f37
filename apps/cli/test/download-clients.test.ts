// `bt download` from the other clients people seed with: Transmission 3 and aria2 1.36, alone and all
// together with libtorrent on one torrent, found through a real tracker. Results compared byte for byte.
import { join } from 'node:path'
import {
  compareContent,
  describeWithTools,
  type LoopbackTracker,
  startAria2,
  startBittorrentTracker,
  startLibtorrentSeeder,
  startTransmission,
} from '@bt/test-helpers'
import { afterEach, expect, it } from 'vitest'
import {
  bt,
  copyOfSeedDir,
  describeRun,
  freshDir,
  makeFixture,
  progressEvents,
  removeFixture,
  type TorrentFixture,
  throttled,
  waitForSeeders,
} from './swarm.js'

const KIB = 1024
// Transmission unchokes on its ~10 s rechoke pulse: a download from it takes that long at least.
const SLOW_PEER_TIMEOUT = 90_000

const cleanups: (() => Promise<void>)[] = []

afterEach(async () => {
  // In reverse order of creation: peers, then the files, then the tracker.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A fresh tracker and torrent for each test: peers of an earlier test, stopped but still listed by the
 * tracker, must not count as this test's seeders.
 */
async function swarmFixture(
  which: 'single' | 'multi',
  length = 2 * 1024 * KIB + 777,
): Promise<{ tracker: LoopbackTracker; fixture: TorrentFixture }> {
  const tracker = await startBittorrentTracker()
  cleanups.push(() => tracker.close())
  const fixture = await makeFixture({
    name: which === 'single' ? 'single.bin' : 'tree',
    pieceLength: 32 * KIB,
    announce: [tracker.httpUrl],
    ...(which === 'single'
      ? { length }
      : {
          files: [
            { path: 'a.bin', length: 100_000 },
            { path: 'empty.txt', length: 0 },
            { path: 'sub/deeper/c.bin', length: 70_001 },
            { path: 'é/ß.txt', length: 40_000 },
            { path: '日本.bin', length: 300_000 },
          ],
        }),
  })
  cleanups.push(() => removeFixture(fixture))
  return { tracker, fixture }
}

function started<T extends { stop(): Promise<void> }>(peer: T): T {
  cleanups.push(() => peer.stop())
  return peer
}

/** Downloads `fixture` with `bt download --json -d` and checks every byte. */
async function downloadAndCompare(fixture: TorrentFixture, label: string) {
  const dir = await freshDir(fixture, label)
  const run = await bt(['download', fixture.torrentPath, '-d', dir, '--json'], {
    timeoutMs: SLOW_PEER_TIMEOUT - 10_000,
  })
  expect(run.code, describeRun(run)).toBe(0)
  const done = run.events.at(-1)
  expect(done).toEqual({ event: 'done', torrent: fixture.torrentPath, path: join(dir, fixture.name) })
  expect(await compareContent(fixture.contentPath, join(dir, fixture.name))).toEqual([])
  return run
}

describeWithTools(['transmission-cli'], 'bt download from Transmission', () => {
  for (const which of ['single', 'multi'] as const) {
    it(
      `downloads a ${which}-file torrent`,
      async () => {
        const { tracker, fixture } = await swarmFixture(which)
        // Transmission hashes its data before it announces as a seeder; the tracker says when.
        started(
          await startTransmission({
            torrentPath: fixture.torrentPath,
            directory: await copyOfSeedDir(fixture, 'transmission'),
          }),
        )
        await waitForSeeders(tracker.httpUrl, fixture.infoHash, 1)
        await downloadAndCompare(fixture, 'out')
      },
      SLOW_PEER_TIMEOUT,
    )
  }
})

describeWithTools(['aria2c'], 'bt download from aria2', () => {
  for (const which of ['single', 'multi'] as const) {
    it(`downloads a ${which}-file torrent`, async () => {
      const { tracker, fixture } = await swarmFixture(which)
      started(
        await startAria2({
          torrentPath: fixture.torrentPath,
          directory: await copyOfSeedDir(fixture, 'aria2'),
        }),
      )
      await waitForSeeders(tracker.httpUrl, fixture.infoHash, 1)
      await downloadAndCompare(fixture, 'out')
    }, 60_000)
  }
})

describeWithTools(
  ['py:libtorrent', 'transmission-cli', 'aria2c'],
  'bt download from a swarm of libtorrent, Transmission and aria2',
  () => {
    it(
      'completes from all three at once, connected to more than one',
      async () => {
        const { tracker, fixture: single } = await swarmFixture('single', 4 * 1024 * KIB + 777)
        const [lt, transmission, aria2] = await Promise.all([
          copyOfSeedDir(single, 'swarm-lt'),
          copyOfSeedDir(single, 'swarm-transmission'),
          copyOfSeedDir(single, 'swarm-aria2'),
        ])
        // Slow seeders, so the download lasts a few progress ticks and the fastest cannot serve it alone.
        const seeders = await Promise.allSettled([
          // Each on its own address, as in a real swarm.
          startLibtorrentSeeder({
            torrentPath: single.torrentPath,
            savePath: lt,
            host: '127.0.0.2',
            settings: throttled(1024 * KIB),
          }),
          startTransmission({ torrentPath: single.torrentPath, directory: transmission, host: '127.0.0.3' }),
          startAria2({
            torrentPath: single.torrentPath,
            directory: aria2,
            uploadLimit: '1M',
            host: '127.0.0.4',
          }),
        ])
        for (const seeder of seeders) if (seeder.status === 'fulfilled') started(seeder.value)
        for (const seeder of seeders) if (seeder.status === 'rejected') throw seeder.reason
        await waitForSeeders(tracker.httpUrl, single.infoHash, 3)
        const run = await downloadAndCompare(single, 'out')
        const progress = progressEvents(run.events)
        expect(Math.max(...progress.map((event) => event.knownPeers))).toBeGreaterThanOrEqual(3)
        expect(Math.max(...progress.map((event) => event.peers))).toBeGreaterThan(1)
      },
      SLOW_PEER_TIMEOUT,
    )
  },
)

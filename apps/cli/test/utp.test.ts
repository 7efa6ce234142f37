// uTP against real libtorrent peers with TCP off (each on its own 127.0.60.x address): `bt download`
// completes from a uTP-only seeder (single- and multi-file, byte-compared), a uTP-only libtorrent
// leecher downloads from `bt seed` (it dials us: incoming uTP), and `--no-utp` against that seeder
// fails cleanly with the peers-unreachable report instead of hanging silently.
import { describeWithTools, type LibtorrentSeeder, startLibtorrentSeeder } from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { contentDifferences, startLibtorrentLeecher, stopBt } from './leechers.js'
import {
  alertsOfType,
  bt,
  describeAlerts,
  describeRun,
  freshDir,
  makeFixture,
  removeFixture,
  seedingEvent,
  spawnBtProcess,
  type TorrentFixture,
} from './swarm.js'

const KIB = 1024
/** libtorrent speaking uTP only, both ways. */
const UTP_ONLY = {
  enable_incoming_utp: true,
  enable_outgoing_utp: true,
  enable_incoming_tcp: false,
  enable_outgoing_tcp: false,
}
/** How long a `--no-utp` run is given before the test interrupts it (exit 130). */
const REFUSED_RUN_MS = 12_000

describeWithTools(['py:libtorrent'], 'bt over uTP with libtorrent (TCP off)', () => {
  let single: TorrentFixture
  let multi: TorrentFixture
  let singleSeeder: LibtorrentSeeder
  let multiSeeder: LibtorrentSeeder
  const cleanups: (() => Promise<void>)[] = []

  beforeAll(async () => {
    // No tracker: --peer is all bt knows.
    ;[single, multi] = await Promise.all([
      makeFixture({ name: 'over-utp.bin', length: 3 * 1024 * KIB + 4321, pieceLength: 64 * KIB }),
      makeFixture({
        name: 'over-utp-tree',
        pieceLength: 32 * KIB,
        files: [
          { path: 'a.bin', length: 700 * KIB + 3 },
          { path: 'sub/b.bin', length: 1024 * KIB },
          { path: 'sub/empty.bin', length: 0 },
          { path: 'c.bin', length: 99_999 },
        ],
      }),
    ])
    ;[singleSeeder, multiSeeder] = await Promise.all([
      startLibtorrentSeeder({
        torrentPath: single.torrentPath,
        savePath: single.seedDir,
        host: '127.0.60.20',
        settings: UTP_ONLY,
      }),
      startLibtorrentSeeder({
        torrentPath: multi.torrentPath,
        savePath: multi.seedDir,
        host: '127.0.60.21',
        settings: UTP_ONLY,
      }),
    ])
  })

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  afterAll(async () => {
    await Promise.all([singleSeeder?.stop(), multiSeeder?.stop()])
    await Promise.all([single && removeFixture(single), multi && removeFixture(multi)])
  })

  for (const kind of ['single-file', 'multi-file'] as const) {
    it(`bt download completes a ${kind} torrent from a uTP-only libtorrent seeder, byte for byte`, async () => {
      const fixture = kind === 'single-file' ? single : multi
      const seeder = kind === 'single-file' ? singleSeeder : multiSeeder
      const dir = await freshDir(fixture, 'utp')
      const run = await bt(
        ['download', fixture.torrentPath, '-d', dir, '--no-dht', '--peer', `${seeder.host}:${seeder.port}`],
        { timeoutMs: 60_000 },
      )
      expect(run.code, describeRun(run)).toBe(0)
      expect(run.stdout).toContain(`Downloaded ${fixture.torrentPath} to `)
      expect(await contentDifferences(fixture, dir)).toEqual([])
    }, 75_000)
  }

  it(
    'bt download --no-utp cannot reach the uTP-only seeder and says so (peers-unreachable)',
    async () => {
      const dir = await freshDir(single, 'no-utp')
      const run = await bt(
        [
          'download',
          single.torrentPath,
          '-d',
          dir,
          '--no-dht',
          '--no-utp',
          '--json',
          '--peer',
          `${singleSeeder.host}:${singleSeeder.port}`,
        ],
        { timeoutMs: REFUSED_RUN_MS },
      )
      // Interrupted by the test (130), not failed or crashed: it waits for peers that may come.
      expect(run.code, describeRun(run)).toBe(130)
      const unreachable = alertsOfType(run.events, 'peers-unreachable')
      expect(unreachable.length, describeAlerts(run.events) || describeRun(run)).toBeGreaterThan(0)
      expect(unreachable[0]!.known).toBe(1)
      // libtorrent with TCP off hangs up on (or never takes) a TCP connection: either way, one failure.
      expect(unreachable[0]!.failures.connect + unreachable[0]!.failures.handshake).toBe(1)
      expect(run.stderr).not.toMatch(/TypeError|RangeError|at .*\.ts:\d+/)
      expect(await contentDifferences(single, dir)).not.toEqual([])
    },
    REFUSED_RUN_MS + 15_000,
  )

  it('a uTP-only libtorrent leecher downloads from bt seed (incoming uTP)', async () => {
    const seed = spawnBtProcess(
      ['seed', multi.torrentPath, multi.seedDir, '--host', '127.0.60.22', '--no-dht', '--json'],
      { cwd: multi.root },
    )
    cleanups.push(async () => void (await stopBt(seed)))
    const seeding = await seedingEvent(seed)
    const dir = await freshDir(multi, 'lt-leech')
    const leecher = startLibtorrentLeecher({
      torrentPath: multi.torrentPath,
      savePath: dir,
      host: '127.0.60.23',
      peers: [`127.0.60.22:${seeding.port}`],
      settings: UTP_ONLY,
      timeoutS: 45,
    })
    cleanups.push(() => leecher.stop())
    expect(await leecher.exited, leecher.process.output()).toBe(0)
    expect(leecher.done()).toBe(true)
    expect(await contentDifferences(multi, dir)).toEqual([])
  }, 75_000)
})

// `--encryption` against real libtorrent peers on loopback (each on its own 127.0.40.x address): a
// seeder that requires encryption is downloaded from under the default policy and under `require`
// (RC4 both ways); a plaintext-only seeder is downloaded from by the default policy's fallback and
// refused, with a clear message, under `require`; a libtorrent leecher that requires encryption
// downloads from `bt seed` (libtorrent dials us: incoming MSE).
import { describeWithTools, type LibtorrentSeeder, startLibtorrentSeeder } from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { contentDifferences, startLibtorrentLeecher, stopBt } from './leechers.js'
import {
  bt,
  describeRun,
  freshDir,
  makeFixture,
  removeFixture,
  seedingEvent,
  spawnBtProcess,
  type TorrentFixture,
} from './swarm.js'

const KIB = 1024
/** libtorrent's pe_forced / pe_disabled, both directions. */
const FORCED = { out_enc_policy: 0, in_enc_policy: 0 }
const PLAIN_ONLY = { out_enc_policy: 2, in_enc_policy: 2 }
/** How long a run that cannot connect is given before it is interrupted (exit 130). */
const REFUSED_RUN_MS = 8_000

describeWithTools(['py:libtorrent'], 'bt --encryption against libtorrent', () => {
  let fixture: TorrentFixture
  let forced: LibtorrentSeeder
  let plainOnly: LibtorrentSeeder
  const cleanups: (() => Promise<void>)[] = []

  beforeAll(async () => {
    // No tracker: --peer is all bt knows.
    fixture = await makeFixture({ name: 'secret.bin', length: 1024 * KIB + 777, pieceLength: 32 * KIB })
    ;[forced, plainOnly] = await Promise.all([
      startLibtorrentSeeder({
        torrentPath: fixture.torrentPath,
        savePath: fixture.seedDir,
        host: '127.0.40.60',
        settings: { ...FORCED, allowed_enc_level: 2 },
      }),
      startLibtorrentSeeder({
        torrentPath: fixture.torrentPath,
        savePath: fixture.seedDir,
        host: '127.0.40.61',
        settings: PLAIN_ONLY,
      }),
    ])
  })

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  afterAll(async () => {
    await Promise.all([forced?.stop(), plainOnly?.stop()])
    await removeFixture(fixture)
  })

  for (const policy of [undefined, 'require'] as const) {
    it(`${policy ? `--encryption ${policy}` : 'the default policy'}: downloads from a seeder that requires RC4, verified`, async () => {
      const dir = await freshDir(fixture, `forced-${policy ?? 'default'}`)
      const run = await bt(
        [
          'download',
          fixture.torrentPath,
          '-d',
          dir,
          '--no-dht',
          '--peer',
          `${forced.host}:${forced.port}`,
          ...(policy ? ['--encryption', policy] : []),
        ],
        { timeoutMs: 60_000 },
      )
      expect(run.code, describeRun(run)).toBe(0)
      expect(run.stdout).toContain(`Downloaded ${fixture.torrentPath} to `)
      expect(await contentDifferences(fixture, dir)).toEqual([])
    }, 75_000)
  }

  it('the default policy falls back to a plain handshake with a plaintext-only seeder', async () => {
    const dir = await freshDir(fixture, 'plain-default')
    const run = await bt(
      [
        'download',
        fixture.torrentPath,
        '-d',
        dir,
        '--no-dht',
        '--peer',
        `${plainOnly.host}:${plainOnly.port}`,
      ],
      { timeoutMs: 60_000 },
    )
    expect(run.code, describeRun(run)).toBe(0)
    expect(await contentDifferences(fixture, dir)).toEqual([])
  }, 75_000)

  it(
    '--encryption require refuses a plaintext-only seeder and says why, without crashing',
    async () => {
      const dir = await freshDir(fixture, 'plain-require')
      const run = await bt(
        [
          'download',
          fixture.torrentPath,
          '-d',
          dir,
          '--no-dht',
          '--encryption',
          'require',
          '--peer',
          `${plainOnly.host}:${plainOnly.port}`,
        ],
        { timeoutMs: REFUSED_RUN_MS },
      )
      // Interrupted by the test (130), not failed or crashed: it waits for peers that may come.
      expect(run.code, describeRun(run)).toBe(130)
      expect(run.stderr).toContain(
        'the only known peer closed the connection during the handshake (encryption is required',
      )
      expect(run.stderr).not.toMatch(/TypeError|RangeError|at .*\.ts:\d+/)
    },
    REFUSED_RUN_MS + 15_000,
  )

  it('a libtorrent leecher that requires encryption downloads from bt seed (incoming MSE)', async () => {
    const seed = spawnBtProcess(
      ['seed', fixture.torrentPath, fixture.seedDir, '--host', '127.0.40.62', '--no-dht', '--json'],
      { cwd: fixture.root },
    )
    cleanups.push(async () => void (await stopBt(seed)))
    const seeding = await seedingEvent(seed)
    const dir = await freshDir(fixture, 'lt-leech')
    const leecher = startLibtorrentLeecher({
      torrentPath: fixture.torrentPath,
      savePath: dir,
      host: '127.0.40.63',
      peers: [`127.0.40.62:${seeding.port}`],
      settings: { ...FORCED, allowed_enc_level: 2 },
      timeoutS: 45,
    })
    cleanups.push(() => leecher.stop())
    expect(await leecher.exited, leecher.process.output()).toBe(0)
    expect(leecher.done()).toBe(true)
    expect(await contentDifferences(fixture, dir)).toEqual([])
  }, 75_000)
})

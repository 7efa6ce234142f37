// A silent hang is a bug: when the only peer is a libtorrent seeder that requires encryption (it closes
// every plaintext handshake) and bt is told to speak plain (`--encryption off`; by default it would
// encrypt, see encryption.test.ts), `bt download` says so — on stderr in human mode, as a
// `peers-unreachable` event with --json — instead of waiting without a word until it is interrupted.
import { describeWithTools, type LibtorrentSeeder, startLibtorrentSeeder } from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import {
  alertsOfType,
  bt,
  describeAlerts,
  describeRun,
  freshDir,
  makeFixture,
  removeFixture,
  type TorrentFixture,
} from './swarm.js'

const KIB = 1024
/**
 * How long bt runs before the test interrupts it (the in-process run then exits 130): the peer hangs up
 * at once, and even a silent one would hit the 10 s handshake timeout first.
 */
const RUN_MS = 12_000

describeWithTools(['py:libtorrent'], 'bt download --encryption off, peer requires it', () => {
  let fixture: TorrentFixture
  let seeder: LibtorrentSeeder

  beforeAll(async () => {
    // No tracker: the one --peer is all it knows.
    fixture = await makeFixture({ name: 'forced.bin', length: 256 * KIB + 99, pieceLength: 16 * KIB })
    seeder = await startLibtorrentSeeder({
      torrentPath: fixture.torrentPath,
      savePath: fixture.seedDir,
      host: '127.0.0.2',
      // pe_forced both ways: plaintext BitTorrent handshakes are closed.
      settings: { out_enc_policy: 0, in_enc_policy: 0 },
    })
  })

  afterAll(async () => {
    await seeder?.stop()
    await removeFixture(fixture)
  })

  it(
    'says on stderr that the peer closed the connection during the handshake',
    async () => {
      const dir = await freshDir(fixture, 'human')
      const run = await bt(
        [
          'download',
          fixture.torrentPath,
          '-d',
          dir,
          '--encryption',
          'off',
          '--peer',
          `${seeder.host}:${seeder.port}`,
        ],
        {
          timeoutMs: RUN_MS,
        },
      )
      expect(run.code, describeRun(run)).toBe(130)
      expect(run.stderr).toContain(
        'closed the connection during the handshake (they may require encryption or uTP)',
      )
    },
    RUN_MS + 15_000,
  )

  it(
    '--json: a peers-unreachable event counting a handshake failure',
    async () => {
      const dir = await freshDir(fixture, 'json')
      const run = await bt(
        [
          'download',
          fixture.torrentPath,
          '-d',
          dir,
          '--json',
          '--encryption',
          'off',
          '--peer',
          `${seeder.host}:${seeder.port}`,
        ],
        { timeoutMs: RUN_MS },
      )
      expect(run.code, describeRun(run)).toBe(130)
      const unreachable = alertsOfType(run.events, 'peers-unreachable')
      expect(unreachable.length, describeAlerts(run.events) || describeRun(run)).toBeGreaterThan(0)
      expect(unreachable[0]!.known).toBeGreaterThanOrEqual(1)
      expect(unreachable[0]!.failures.handshake).toBeGreaterThanOrEqual(1)
      expect(unreachable[0]!.message).toContain('closed the connection during the handshake')
    },
    RUN_MS + 15_000,
  )
})

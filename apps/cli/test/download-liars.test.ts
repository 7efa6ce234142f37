// `bt download` with a lying peer in the swarm next to an honest libtorrent seeder: whatever the liar
// does, the download completes byte-identical, the honest seeder is never blamed, and a peer that sends
// corrupt data is banned. Each sits on its own loopback address, as a ban is on the IP.
import { join } from 'node:path'
import { compareContent, describeWithTools, type LibtorrentSeeder } from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type LiarBehavior, type LiarPeer, startLiarPeer } from './liar-peer.js'
import {
  type AlertEvent,
  alerts,
  alertsOfType,
  bt,
  describeAlerts,
  describeRun,
  freshDir,
  type HonestSwarm,
  hostOf,
  startHonestSwarm,
  type TorrentFixture,
} from './swarm.js'

const KIB = 1024
const SEEDER_HOST = '127.0.0.2'
const LIAR_HOST = '127.0.0.66'

interface Case {
  behavior: LiarBehavior
  /** What must be true of the liar and the client's alerts after a successful download. */
  check(liar: LiarPeer, alerted: AlertEvent[]): Promise<void> | void
}

/** The liar was banned on its IP for the data it sent. */
function expectLiarBanned(liar: LiarPeer, alerted: AlertEvent[]) {
  const bans = alertsOfType(alerted, 'peer-banned').filter((ban) => hostOf(ban.address) === liar.host)
  expect(bans.length, describeAlerts(alerted)).toBeGreaterThan(0)
  expect(['corrupt-data', 'repeated-hash-failures']).toContain(bans[0]!.reason)
}

const cases: Case[] = [
  {
    behavior: 'corrupt',
    check(liar, alerted) {
      expect(liar.stats.blocksSent).toBeGreaterThan(0)
      expectLiarBanned(liar, alerted)
    },
  },
  {
    behavior: 'corrupt-shared',
    check(liar, alerted) {
      expect(liar.stats.blocksSent).toBeGreaterThan(0)
      expectLiarBanned(liar, alerted)
    },
  },
  {
    behavior: 'wrong-length',
    check(liar) {
      expect(liar.stats.blocksSent).toBeGreaterThan(0)
    },
  },
  {
    behavior: 'unrequested',
    check(liar, alerted) {
      expect(liar.stats.blocksSent).toBeGreaterThan(0)
      // Its honest answers are fine; garbage nobody asked for must never reach a piece.
      expect(alertsOfType(alerted, 'piece-failed')).toEqual([])
    },
  },
  {
    behavior: 'oversized',
    async check(liar, alerted) {
      // Dropped, not waited on: the frame never completes.
      expect(liar.stats.closedByClient).toBeGreaterThan(0)
      const disconnected = alertsOfType(alerted, 'peer-disconnected')
      expect(
        disconnected.some((alert) => alert.address === `${liar.host}:${liar.port}`),
        describeAlerts(alerted),
      ).toBe(true)
    },
  },
  {
    behavior: 'stall',
    check(liar) {
      expect(liar.stats.requests).toBeGreaterThan(0)
    },
  },
]

describeWithTools(['py:libtorrent'], 'bt download with a lying peer in the swarm', () => {
  let swarm: HonestSwarm
  let fixture: TorrentFixture
  let seeder: LibtorrentSeeder
  let liar: LiarPeer | undefined

  beforeAll(async () => {
    // Slow enough that the liar, dialled first and answering at once, gets a good share of requests.
    swarm = await startHonestSwarm({
      name: 'liars.bin',
      length: 2 * 1024 * KIB + 12_345,
      pieceLength: 64 * KIB,
      seederHost: SEEDER_HOST,
      uploadRate: 2048 * KIB,
    })
    ;({ fixture, seeder } = swarm)
  })

  afterEach(async () => {
    await liar?.close()
    liar = undefined
  })

  afterAll(async () => {
    await swarm?.close()
  })

  for (const { behavior, check } of cases) {
    it(`completes byte-identical next to a '${behavior}' liar`, async () => {
      liar = await startLiarPeer({
        behavior,
        infoHash: fixture.infoHash,
        content: fixture.data.get(fixture.name)!,
        pieceLength: fixture.pieceLength,
        host: LIAR_HOST,
      })
      const dir = await freshDir(fixture, `out-${behavior}`)
      const run = await bt(
        ['download', fixture.torrentPath, '-d', dir, '--json', '--peer', `${liar.host}:${liar.port}`],
        { timeoutMs: 30_000 },
      )
      expect(run.code, describeRun(run)).toBe(0)
      expect(await compareContent(fixture.contentPath, join(dir, fixture.name))).toEqual([])
      expect(liar.stats.connections).toBeGreaterThan(0)
      const alerted = alerts(run.events)
      // A piece the liar and the seeder both sent blocks of may fail and name both; only a ban is blame.
      expect(
        alertsOfType(alerted, 'peer-banned').filter((ban) => hostOf(ban.address) === seeder.host),
      ).toEqual([])
      await check(liar, alerted)
    }, 40_000)
  }
})

// `bt download` with a lying peer in the swarm next to an honest libtorrent seeder: whatever the liar
// does, the download completes byte-identical, the honest seeder is never blamed, and a peer that sends
// corrupt data is banned.
import { join } from 'node:path'
import {
  compareContent,
  describeWithTools,
  type LibtorrentSeeder,
  type LoopbackTracker,
  startBittorrentTracker,
  startLibtorrentSeeder,
} from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type LiarBehavior, type LiarPeer, startLiarPeer } from './liar-peer.js'
import {
  bt,
  describeRun,
  freshDir,
  makeFixture,
  removeFixture,
  type TorrentFixture,
  throttled,
  waitForSeeders,
  warnings,
} from './swarm.js'

const KIB = 1024

interface Case {
  behavior: LiarBehavior
  /** What must be true of the liar and the client's warnings after a successful download. */
  check(liar: LiarPeer, warned: string[]): Promise<void> | void
}

const cases: Case[] = [
  {
    behavior: 'corrupt',
    check(liar, warned) {
      expect(liar.stats.blocksSent).toBeGreaterThan(0)
      expect(warned.some((message) => message.includes(`banned peer 127.0.0.1:${liar.port}`))).toBe(true)
    },
  },
  {
    behavior: 'corrupt-shared',
    check(liar, warned) {
      expect(liar.stats.blocksSent).toBeGreaterThan(0)
      expect(warned.some((message) => message.includes(`banned peer 127.0.0.1:${liar.port}`))).toBe(true)
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
    check(liar, warned) {
      expect(liar.stats.blocksSent).toBeGreaterThan(0)
      // Its honest answers are fine; garbage nobody asked for must never reach a piece.
      expect(warned.filter((message) => message.includes('failed its hash check'))).toEqual([])
    },
  },
  {
    behavior: 'oversized',
    async check(liar, warned) {
      // Dropped, not waited on: the frame never completes.
      expect(liar.stats.closedByClient).toBeGreaterThan(0)
      expect(warned.some((message) => message.startsWith(`peer 127.0.0.1:${liar.port} disconnected`))).toBe(
        true,
      )
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
  let tracker: LoopbackTracker
  let fixture: TorrentFixture
  let seeder: LibtorrentSeeder
  let liar: LiarPeer | undefined

  beforeAll(async () => {
    tracker = await startBittorrentTracker()
    fixture = await makeFixture({
      name: 'liars.bin',
      length: 2 * 1024 * KIB + 12_345,
      pieceLength: 64 * KIB,
      announce: [tracker.httpUrl],
    })
    // Slow enough that the liar, dialled first and answering at once, gets a good share of requests.
    seeder = await startLibtorrentSeeder({
      torrentPath: fixture.torrentPath,
      savePath: fixture.seedDir,
      settings: throttled(2048 * KIB),
    })
    await waitForSeeders(tracker.httpUrl, fixture.infoHash, 1)
  })

  afterEach(async () => {
    await liar?.close()
    liar = undefined
  })

  afterAll(async () => {
    await seeder?.stop()
    await tracker?.close()
    await removeFixture(fixture)
  })

  for (const { behavior, check } of cases) {
    it(`completes byte-identical next to a '${behavior}' liar`, async () => {
      liar = await startLiarPeer({
        behavior,
        infoHash: fixture.infoHash,
        content: fixture.data.get(fixture.name)!,
        pieceLength: fixture.pieceLength,
      })
      const dir = await freshDir(fixture, `out-${behavior}`)
      const run = await bt(
        ['download', fixture.torrentPath, '-d', dir, '--json', '--peer', `127.0.0.1:${liar.port}`],
        { timeoutMs: 30_000 },
      )
      expect(run.code, describeRun(run)).toBe(0)
      expect(await compareContent(fixture.contentPath, join(dir, fixture.name))).toEqual([])
      expect(liar.stats.connections).toBeGreaterThan(0)
      const warned = warnings(run.events)
      // A piece the liar and the seeder both sent blocks of may fail and name both; only a ban is blame.
      expect(warned.filter((message) => message.includes(`banned peer 127.0.0.1:${seeder.port}`))).toEqual([])
      await check(liar, warned)
    }, 40_000)
  }
})

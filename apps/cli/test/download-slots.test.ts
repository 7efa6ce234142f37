// Connection slots are not for keeping: with `--max-peers 2` taken by two peers that unchoke, accept
// requests and never answer them, `bt download` drops a snubbed one while a candidate waits, and
// completes from the honest seeder it was given third. Each peer on its own loopback address.
import { join } from 'node:path'
import {
  compareContent,
  describeWithTools,
  type LibtorrentSeeder,
  startLibtorrentSeeder,
} from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type LiarPeer, startLiarPeer } from './liar-peer.js'
import {
  alertsOfType,
  bt,
  describeAlerts,
  describeRun,
  freshDir,
  hostOf,
  makeFixture,
  removeFixture,
  type TorrentFixture,
} from './swarm.js'

const KIB = 1024
const SEEDER_HOST = '127.0.0.2'
const STALLER_HOSTS = ['127.0.0.3', '127.0.0.4']
/** The engine drops a peer snubbed for 20 s when candidates wait; the rest is margin. */
const COMPLETES_WITHIN_MS = 90_000

describeWithTools(['py:libtorrent'], 'bt download with its slots taken by stalling peers', () => {
  let fixture: TorrentFixture
  let seeder: LibtorrentSeeder
  const stallers: LiarPeer[] = []

  beforeAll(async () => {
    // No tracker: the three --peer addresses are all it knows.
    fixture = await makeFixture({ name: 'slots.bin', length: 1024 * KIB + 4321, pieceLength: 32 * KIB })
    seeder = await startLibtorrentSeeder({
      torrentPath: fixture.torrentPath,
      savePath: fixture.seedDir,
      host: SEEDER_HOST,
    })
  })

  afterEach(async () => {
    for (const staller of stallers.splice(0)) await staller.close()
  })

  afterAll(async () => {
    await seeder?.stop()
    await removeFixture(fixture)
  })

  it(
    'drops a snubbed staller for the waiting seeder and completes byte-identical',
    async () => {
      for (const host of STALLER_HOSTS) {
        stallers.push(
          await startLiarPeer({
            behavior: 'stall',
            infoHash: fixture.infoHash,
            content: fixture.data.get(fixture.name)!,
            pieceLength: fixture.pieceLength,
            host,
          }),
        )
      }
      const dir = await freshDir(fixture, 'out')
      const peers = [...stallers, seeder].flatMap((peer) => ['--peer', `${peer.host}:${peer.port}`])
      // Stalled for good, bt would be aborted at the timeout (exit 130).
      const run = await bt(
        ['download', fixture.torrentPath, '-d', dir, '--json', '--max-peers', '2', ...peers],
        { timeoutMs: COMPLETES_WITHIN_MS },
      )
      const alerted = describeAlerts(run.events)
      expect(run.code, `${describeRun(run)}\nalerts:\n${alerted}`).toBe(0)
      expect(await compareContent(fixture.contentPath, join(dir, fixture.name))).toEqual([])
      // Both stallers held a slot and were asked for blocks they never sent.
      for (const staller of stallers) expect(staller.stats.requests, staller.host).toBeGreaterThan(0)
      const snubbed = alertsOfType(run.events, 'peer-dropped').filter((drop) => drop.reason === 'snubbed')
      expect(snubbed.length, alerted).toBeGreaterThan(0)
      for (const drop of snubbed) expect(STALLER_HOSTS, alerted).toContain(hostOf(drop.address))
      expect(alertsOfType(run.events, 'peer-banned'), alerted).toEqual([])
    },
    COMPLETES_WITHIN_MS + 30_000,
  )
})

// The DHT from the command line, in a private DHT of 16 real libtorrent nodes: `bt seed` of a torrent
// with no tracker announces itself there; `bt dht peers` finds it; a libtorrent node given only the info
// hash finds it there and downloads from it; then, bt seed gone, `bt download` of a bare
// `magnet:?xt=urn:btih:` (no tracker, no peer) finds that libtorrent seeder through the DHT, fetches the
// metadata and completes; the node's state is kept in --state-dir. Each bt on its own loopback address.
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { compareContent, describeWithTools, type LibtorrentDht, startLibtorrentDht } from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { stopBt } from './leechers.js'
import {
  type BtProcess,
  bt,
  describeRun,
  freshDir,
  makeFixture,
  removeFixture,
  seedingEvent,
  sleep,
  spawnBtProcess,
  type TorrentFixture,
} from './swarm.js'

const SEED_HOST = '127.0.0.71'

describeWithTools(['py:libtorrent'], 'bt and the DHT', () => {
  let network: LibtorrentDht
  let fixture: TorrentFixture
  let seed: BtProcess
  let seedPort: number
  const bootstrap = (index: number) => `${network.nodes[index]!.host}:${network.nodes[index]!.port}`

  beforeAll(async () => {
    network = await startLibtorrentDht({ count: 16 })
    // No tracker: the DHT is the only way to this torrent.
    fixture = await makeFixture({ name: 'dht.bin', length: 700_000, pieceLength: 32 * 1024 })
    seed = spawnBtProcess(
      [
        ...['seed', fixture.torrentPath, fixture.seedDir, '--host', SEED_HOST, '--json'],
        ...['--dht-bootstrap', bootstrap(0), '--state-dir', join(fixture.root, 'seed-state')],
      ],
      { cwd: fixture.root },
    )
    const seeding = await seedingEvent(seed)
    seedPort = seeding.port
  }, 120_000)

  afterAll(async () => {
    if (seed) await stopBt(seed)
    await network?.stop()
    await removeFixture(fixture)
  })

  it('bt dht peers finds the seeder that announced itself', async () => {
    let found = ''
    for (let attempt = 0; attempt < 10 && !found.includes(`${SEED_HOST}:${seedPort}`); attempt++) {
      if (attempt > 0) await sleep(1000)
      const run = await bt(
        [
          'dht',
          'peers',
          fixture.infoHash,
          '--dht-bootstrap',
          bootstrap(7),
          '--timeout',
          '5',
          '--host',
          '127.0.0.72',
        ],
        { timeoutMs: 20_000 },
      )
      found = run.stdout
    }
    expect(found.split('\n')).toContain(`${SEED_HOST}:${seedPort}`)
  }, 60_000)

  it('a libtorrent node with only the info hash finds bt seed through the DHT and downloads from it', async () => {
    await network.announce(11, fixture.infoHash)
    let progress = 0
    for (let attempt = 0; attempt < 60 && progress < 1; attempt++) {
      await sleep(500)
      progress = (await network.progress(11, fixture.infoHash)).progress
    }
    expect(progress).toBe(1)
  }, 60_000)

  it('bt download of a bare magnet link finds that libtorrent seeder through the DHT and completes', async () => {
    // bt seed leaves: the libtorrent node, which announced itself to the DHT only, is the one source.
    await stopBt(seed)
    const dir = await freshDir(fixture, 'from-dht')
    const run = await bt(
      ['download', `magnet:?xt=urn:btih:${fixture.infoHash}`, '-d', dir, '--dht-bootstrap', bootstrap(3)],
      { timeoutMs: 60_000 },
    )
    expect(run.code, describeRun(run)).toBe(0)
    expect(await compareContent(fixture.contentPath, join(dir, fixture.name))).toEqual([])
  }, 90_000)

  it('keeps the node state in --state-dir', async () => {
    const state = join(fixture.root, 'peers-state')
    const run = await bt(
      [
        'dht',
        'peers',
        fixture.infoHash,
        '--dht-bootstrap',
        bootstrap(2),
        '--timeout',
        '3',
        '--state-dir',
        state,
      ],
      { timeoutMs: 20_000 },
    )
    expect(run.code, describeRun(run)).toBe(0)
    expect((await stat(join(state, 'dht.json'))).size).toBeGreaterThan(0)
  }, 30_000)
})

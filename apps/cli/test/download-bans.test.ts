// Bans that hold: a liar that dials `bt download` again and again from new source ports is banned on
// its IP once, and every later connection from that IP is closed at accept, before our handshake answer;
// it never gets to waste more of the download. The honest libtorrent seeder, on its own address, is
// never banned. Each peer has its own loopback address, as a ban is on the IP.
import { join } from 'node:path'
import { acceptsTcp, compareContent, describeWithTools, freeTcpAndUdpPort } from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type LiarBehavior, type LiarPeer, startLiarPeer } from './liar-peer.js'
import {
  alertsOfType,
  type BtRun,
  bt,
  describeAlerts,
  describeRun,
  freshDir,
  type HonestSwarm,
  hostOf,
  progressEvents,
  sleep,
  startHonestSwarm,
  type TorrentFixture,
} from './swarm.js'

const KIB = 1024
const SEEDER_HOST = '127.0.0.2'
const LIAR_HOST = '127.0.0.9'

describeWithTools(['py:libtorrent'], 'bt download bans a lying peer on its IP, and the ban holds', () => {
  let swarm: HonestSwarm
  let fixture: TorrentFixture
  let liar: LiarPeer | undefined

  beforeAll(async () => {
    // At 1 MiB/s the download lasts a few seconds: time for the liar to get a share, be banned and
    // come back many times.
    swarm = await startHonestSwarm({
      name: 'bans.bin',
      length: 2 * 1024 * KIB + 12_345,
      pieceLength: 64 * KIB,
      seederHost: SEEDER_HOST,
      uploadRate: 1024 * KIB,
    })
    fixture = swarm.fixture
  })

  afterEach(async () => {
    await liar?.close()
    liar = undefined
  })

  afterAll(async () => {
    await swarm?.close()
  })

  /**
   * `bt download --json --port P` with a liar on LIAR_HOST that dials 127.0.0.1:P (from a new source
   * port after each close) as soon as bt listens.
   */
  async function downloadWithDiallingLiar(behavior: LiarBehavior): Promise<{ run: BtRun; liar: LiarPeer }> {
    const port = await freeTcpAndUdpPort()
    const dir = await freshDir(fixture, `out-${behavior}`)
    const running = bt(['download', fixture.torrentPath, '-d', dir, '--json', '--port', `${port}`], {
      timeoutMs: 45_000,
    })
    const deadline = Date.now() + 10_000
    while (!(await acceptsTcp(port)) && Date.now() < deadline) await sleep(20)
    liar = await startLiarPeer({
      behavior,
      infoHash: fixture.infoHash,
      content: fixture.data.get(fixture.name)!,
      pieceLength: fixture.pieceLength,
      host: LIAR_HOST,
      dialTo: { host: '127.0.0.1', port },
      redialDelayMs: 150,
      maxDials: 100,
    })
    const run = await running
    expect(run.code, describeRun(run)).toBe(0)
    expect(await compareContent(fixture.contentPath, join(dir, fixture.name))).toEqual([])
    return { run, liar }
  }

  /** Alerts name peers as plain `ip:port`: an IPv4 peer accepted on a dual-stack socket is no `[::ffff:…]`. */
  function expectPlainAddresses(run: BtRun) {
    const mapped = alertsOfType(run.events, 'peer-banned').filter((ban) => ban.address.includes('::ffff:'))
    expect.soft(mapped, describeAlerts(run.events)).toEqual([])
  }

  function bansOf(run: BtRun, host: string) {
    return alertsOfType(run.events, 'peer-banned').filter((ban) => hostOf(ban.address) === host)
  }

  it("a 'corrupt' liar is refused at accept after its ban, from every new source port", async () => {
    const { run, liar } = await downloadWithDiallingLiar('corrupt')
    const alerted = describeAlerts(run.events)
    const { stats } = liar
    const dials = `dials: ${stats.dials.join(' ')}`
    // Each property on its own (soft), so a failing run shows every one that does not hold.
    // It got in once and sent data, was banned for it…
    expect(stats.blocksSent, dials).toBeGreaterThan(0)
    expectPlainAddresses(run)
    const bans = bansOf(run, LIAR_HOST)
    expect.soft(bans.length, alerted).toBeGreaterThan(0)
    if (bans[0]) expect.soft(['corrupt-data', 'repeated-hash-failures'], alerted).toContain(bans[0].reason)
    // …and never again: every later dial is closed before our handshake answer, while bt still runs.
    expect.soft(stats.handshakes, dials).toBeLessThanOrEqual(1)
    expect.soft(stats.blocksPerConnection.length, dials).toBeLessThanOrEqual(1)
    expect.soft(stats.blocksPerConnection[0], dials).toBe(stats.blocksSent)
    const first = stats.dials.indexOf('handshake')
    expect.soft(stats.dials.slice(first + 1), dials).toContain('no-handshake')
    expect.soft(stats.dials.slice(first + 1), dials).not.toContain('handshake')
    expect.soft(bansOf(run, SEEDER_HOST), alerted).toEqual([])
    // What the liar sent before its ban is all the waste there is.
    const last = progressEvents(run.events).at(-1)
    expect(last, describeRun(run)).toBeDefined()
    expect
      .soft(last!.downloadedBytes, `${dials}\nblocks sent: ${stats.blocksSent}`)
      .toBeLessThan(1.2 * fixture.length)
  }, 60_000)

  it("a 'corrupt-shared' liar (the honest seeder co-sends each bad piece) is banned, never the seeder", async () => {
    const { run, liar } = await downloadWithDiallingLiar('corrupt-shared')
    const alerted = describeAlerts(run.events)
    expect(liar.stats.blocksSent, `dials: ${liar.stats.dials.join(' ')}`).toBeGreaterThan(0)
    expectPlainAddresses(run)
    expect.soft(bansOf(run, LIAR_HOST).length, alerted).toBeGreaterThan(0)
    expect.soft(bansOf(run, SEEDER_HOST), alerted).toEqual([])
  }, 60_000)
})

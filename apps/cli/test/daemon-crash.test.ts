// `kill -9` of `bt daemon` at random moments while two of three torrents download from throttled
// libtorrent seeders (one each, on 127.0.0.2/.3/.4), driven by Debian's transmission-remote; each
// restart from the same state dir brings back all three with the same ids, the stopped one still
// stopped; the others complete byte for byte, and so does the stopped one once started.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  compareContent,
  describeWithTools,
  type LibtorrentSeeder,
  type LoopbackTracker,
  startBittorrentTracker,
} from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RemoteRow, type RunningDaemon, startDaemon } from './daemon-harness.js'
import { stopBt } from './leechers.js'
import { removeFixture, seededFixture, sleep, type TorrentFixture } from './swarm.js'

/** A `-l` row with Done as a number. */
type Row = Omit<RemoteRow, 'done'> & { done: number }

const SEEDER_HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4']
/** Bytes per second each seeder uploads: ~3 MiB each takes ~6 s, long enough to kill mid-download. */
const RATE = 512 * 1024
/** The torrent stopped right after it is added (ids are 1, 2, 3 in add order). */
const STOPPED_ID = 2
const KILLS = 2

describeWithTools(
  ['py:libtorrent', 'transmission-remote'],
  'bt daemon killed with SIGKILL mid-download',
  () => {
    let root = ''
    let tracker: LoopbackTracker | undefined
    const fixtures: TorrentFixture[] = []
    const seeders: LibtorrentSeeder[] = []
    let daemon: RunningDaemon | undefined
    const stateDir = () => join(root, 'state')
    const downloadDir = () => join(root, 'downloads')

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'bt-daemon-crash-'))
      tracker = await startBittorrentTracker()
      for (const [index, host] of SEEDER_HOSTS.entries()) {
        const { fixture, seeder } = await seededFixture(tracker.httpUrl, {
          name: `crash-${index + 1}.bin`,
          length: 3 * 1024 * 1024 + 1000 * index + 17,
          pieceLength: 32 * 1024,
          host,
          uploadRate: RATE,
        })
        fixtures.push(fixture)
        seeders.push(seeder)
      }
    }, 60_000)

    afterAll(async () => {
      if (daemon) await stopBt(daemon.process)
      for (const seeder of seeders) await seeder.stop()
      await tracker?.close()
      for (const fixture of fixtures) await removeFixture(fixture)
      if (root) await rm(root, { recursive: true, force: true })
    })

    async function restart(): Promise<void> {
      daemon = await startDaemon({ stateDir: stateDir(), downloadDir: downloadDir(), cwd: root })
    }
    const remote = (...args: string[]) => daemon!.remote(...args)
    /** The rows, Done as a number (NaN for n/a). */
    const list = async (): Promise<Row[]> =>
      (await daemon!.rows()).map((row) => ({ ...row, done: Number.parseFloat(row.done) }))

    async function waitForRows(
      test: (rows: Row[]) => boolean,
      what: string,
      timeoutMs: number,
    ): Promise<Row[]> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const current = await list()
        if (test(current)) return current
        if (Date.now() > deadline)
          throw new Error(`not ${what} within ${timeoutMs} ms:\n${await remote('-l')}`)
        await sleep(100)
      }
    }

    /** The two running downloads' mean Done %. */
    const runningProgress = (current: readonly Row[]) => {
      const running = current.filter((row) => row.id !== STOPPED_ID)
      return running.reduce((sum, row) => sum + (Number.isNaN(row.done) ? 0 : row.done), 0) / running.length
    }

    /** All three, ids 1, 2, 3 with their names; the stopped one stopped. */
    function expectAllBack(current: readonly Row[]): void {
      expect(current.map((row) => [row.id, row.name])).toEqual(
        fixtures.map((f, index) => [index + 1, f.name]),
      )
      expect(current.find((row) => row.id === STOPPED_ID)?.status).toBe('Stopped')
    }

    it('adds three torrents and stops one; the other two download', async () => {
      await restart()
      for (const fixture of fixtures) expect(await remote('-a', fixture.torrentPath)).toMatch(/success/)
      await remote('-t', `${STOPPED_ID}`, '-S')
      const current = await waitForRows(
        (r) => r.length === 3 && r.find((row) => row.id === STOPPED_ID)?.status === 'Stopped',
        'three rows, one stopped',
        10_000,
      )
      expectAllBack(current)
    }, 30_000)

    it(`survives ${KILLS} SIGKILLs at random moments between 10 % and 80 % of the downloads`, async () => {
      // Sorted random targets in [10, 80): each kill comes later in the download than the one before.
      const targets = Array.from({ length: KILLS }, () => 10 + Math.random() * 70).sort((a, b) => a - b)
      for (const target of targets) {
        const before = await waitForRows(
          (r) => runningProgress(r) >= target,
          `the downloads at ${target.toFixed(0)} %`,
          30_000,
        )
        const killed = daemon!.process
        killed.kill('SIGKILL')
        const exit = await killed.exited
        expect(exit.signal).toBe('SIGKILL')
        expect(runningProgress(before)).toBeLessThan(100)
        await restart()
        expectAllBack(await waitForRows((r) => r.length === 3, 'three rows after the restart', 10_000))
      }
      const done = await waitForRows(
        (r) => r.filter((row) => row.id !== STOPPED_ID).every((row) => row.done === 100),
        'both downloads complete',
        40_000,
      )
      expectAllBack(done)
      for (const [index, fixture] of fixtures.entries()) {
        if (index + 1 === STOPPED_ID) continue
        expect(await compareContent(fixture.contentPath, join(downloadDir(), fixture.name))).toEqual([])
      }
    }, 75_000)

    it('the stopped torrent, started with -s, completes too', async () => {
      await remote('-t', `${STOPPED_ID}`, '-s')
      await waitForRows(
        (r) => r.find((row) => row.id === STOPPED_ID)?.done === 100,
        'the started torrent complete',
        30_000,
      )
      const fixture = fixtures[STOPPED_ID - 1]!
      expect(await compareContent(fixture.contentPath, join(downloadDir(), fixture.name))).toEqual([])
    }, 35_000)
  },
)

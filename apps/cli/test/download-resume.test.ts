// Crash and resume: `bt download` as a real process is SIGKILLed mid-download, run again, finishes
// byte-identical, and does not fetch again the pieces it had verified before the crash (DESIGN §2.7:
// "a restart, even after kill -9, keeps verified pieces and never trusts unverified bytes").
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  compareContent,
  describeWithTools,
  type LibtorrentSeeder,
  type LoopbackTracker,
  startBittorrentTracker,
  startLibtorrentSeeder,
} from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import {
  type BtProcess,
  type DownloadEvent,
  freshDir,
  makeFixture,
  progressEvents,
  removeFixture,
  sleep,
  spawnBtProcess,
  type TorrentFixture,
  throttled,
  waitForSeeders,
} from './swarm.js'

const MIB = 1024 * 1024
const LENGTH = 48 * MIB + 54_321
const PIECE_LENGTH = 256 * 1024
type Progress = Extract<DownloadEvent, { event: 'progress' }>

describeWithTools(['py:libtorrent'], 'bt download after a crash', () => {
  let tracker: LoopbackTracker
  let fixture: TorrentFixture
  let seeder: LibtorrentSeeder
  const processes: BtProcess[] = []

  beforeAll(async () => {
    tracker = await startBittorrentTracker()
    fixture = await makeFixture({
      name: 'big.bin',
      length: LENGTH,
      pieceLength: PIECE_LENGTH,
      announce: [tracker.httpUrl],
    })
    // About 12 s for the whole file: the kills land mid-download on a busy machine too.
    seeder = await startLibtorrentSeeder({
      torrentPath: fixture.torrentPath,
      savePath: fixture.seedDir,
      settings: throttled(4 * MIB),
    })
    await waitForSeeders(tracker.httpUrl, fixture.infoHash, 1)
  })

  afterAll(async () => {
    for (const child of processes) child.kill('SIGKILL')
    await Promise.all(processes.map((child) => child.exited))
    await seeder?.stop()
    await tracker?.close()
    await removeFixture(fixture)
  })

  function start(dir: string): BtProcess {
    const child = spawnBtProcess(['download', fixture.torrentPath, '-d', dir, '--json'], { cwd: dir })
    processes.push(child)
    return child
  }

  async function kill(child: BtProcess): Promise<void> {
    child.kill('SIGKILL')
    expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' })
  }

  /** Runs the download to the end after a crash; returns how many pieces it found verified on disk. */
  async function finish(dir: string, atKill: Progress) {
    expect(atKill.piecesVerified, 'killed before the end').toBeLessThan(fixture.pieceCount)
    const second = start(dir)
    const exit = await Promise.race([second.exited, sleep(60_000).then(() => ({ timedOut: true }))])
    expect(exit, second.output().stderr).toEqual({ code: 0, signal: null })
    expect(second.events.at(-1)).toEqual({
      event: 'done',
      torrent: fixture.torrentPath,
      path: join(dir, fixture.name),
    })
    expect(await compareContent(fixture.contentPath, join(dir, fixture.name))).toEqual([])
    const progress = progressEvents(second.events)
    const first = progress[0]!
    const last = progress.at(-1)!
    expect(last.piecesVerified).toBe(fixture.pieceCount)
    // Pieces verified without being downloaded: what the first progress event shows beyond what the
    // second run could have downloaded by then (a lower bound: partial pieces count as downloaded).
    const resumed = first.piecesVerified - Math.floor(first.downloadedBytes / PIECE_LENGTH)
    const summary = `killed with ${atKill.piecesVerified}/${fixture.pieceCount} pieces verified; the second run started with ${first.piecesVerified} verified after ${first.downloadedBytes} bytes (so ≥ ${resumed} from disk) and downloaded ${last.downloadedBytes} of ${LENGTH} bytes in all`
    return { resumed, downloaded: last.downloadedBytes, summary }
  }

  /**
   * The second run may fetch again only a little more than what was not verified at the kill: blocks
   * duplicated in end-game, and the piece store's write of the last pieces racing the kill.
   */
  const refetchAllowance = (atKill: Progress) =>
    LENGTH - atKill.piecesVerified * PIECE_LENGTH + 4 * PIECE_LENGTH

  it('resumes after SIGKILL early in the download without downloading verified pieces again', async () => {
    const dir = await freshDir(fixture, 'early')
    const first = start(dir)
    const atKill = (await first.waitFor(
      // Well before the store's first resume checkpoint (5 s after the first piece).
      (event) => event.event === 'progress' && event.piecesVerified >= fixture.pieceCount / 6,
      60_000,
    )) as Progress
    await kill(first)
    const { resumed, downloaded, summary } = await finish(dir, atKill)
    expect(resumed, summary).toBeGreaterThan(0)
    expect(downloaded, summary).toBeLessThan(LENGTH)
    expect(downloaded, summary).toBeLessThanOrEqual(refetchAllowance(atKill))
  }, 120_000)

  it('keeps the pieces verified after the last resume checkpoint too', async () => {
    const dir = await freshDir(fixture, 'after-checkpoint')
    const first = start(dir)
    // Wait for the store's first checkpoint (its resume file), then for more pieces, and kill before
    // the next checkpoint (5 s later): pieces verified in between are on disk but not in the resume data.
    const resumeFile = await waitForResumeFile(dir, 60_000)
    const checkpointed = await stat(resumeFile)
    // The first progress event after the checkpoint counts at least the pieces it recorded.
    const after = (await first.waitFor(
      (event) => event.event === 'progress',
      5_000,
      first.events.length,
    )) as Progress
    const atKill = (await first.waitFor(
      (event) => event.event === 'progress' && event.piecesVerified >= after.piecesVerified + 16,
      10_000,
    )) as Progress
    await kill(first)
    const rewritten = (await stat(resumeFile)).mtimeMs !== checkpointed.mtimeMs
    const { downloaded, summary } = await finish(dir, atKill)
    expect(downloaded, `${summary}; resume data rewritten before the kill: ${rewritten}`).toBeLessThanOrEqual(
      refetchAllowance(atKill),
    )
  }, 120_000)
})

async function waitForResumeFile(dir: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const name = (await readdir(dir)).find((entry) => /^\.[0-9a-f]{40}\.bt-resume$/.test(entry))
    if (name !== undefined) return join(dir, name)
    await sleep(25)
  }
  throw new Error(`no resume file in ${dir} after ${timeoutMs} ms`)
}

// `bt daemon` driven by Debian's transmission-remote 3.00, with torrents really downloading from a
// libtorrent seeder: add a .torrent, list it (Done %, Status, Name), details (Hash), stop and start, a
// restart from the same state dir that keeps it, and remove with its data.
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  compareContent,
  describeWithTools,
  type LibtorrentSeeder,
  type LoopbackTracker,
  runProgram,
  startBittorrentTracker,
  startLibtorrentSeeder,
} from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { stopBt } from './leechers.js'
import {
  type BtProcess,
  makeFixture,
  removeFixture,
  sleep,
  spawnBtProcess,
  type TorrentFixture,
  waitForSeeders,
} from './swarm.js'

interface Row {
  id: number
  done: string
  status: string
  name: string
}

/** The `-l` rows: id, Done, Status, Name. */
function rows(list: string): Row[] {
  const out: Row[] = []
  for (const line of list.split('\n')) {
    const match =
      /^\s+(\d+)\*?\s+(\S+%|n\/a)\s+.*?\s(Downloading|Seeding|Stopped|Idle|Up & Down|Finished|Verifying|Will Verify|Queued)\s+(.+)$/.exec(
        line,
      )
    if (match) out.push({ id: Number(match[1]), done: match[2]!, status: match[3]!, name: match[4]! })
  }
  return out
}

describeWithTools(['py:libtorrent', 'transmission-remote'], 'bt daemon with transmission-remote', () => {
  let tracker: LoopbackTracker
  let fixture: TorrentFixture
  let seeder: LibtorrentSeeder
  let other: TorrentFixture
  let otherSeeder: LibtorrentSeeder
  let daemon: BtProcess | undefined
  let rpcPort = 0
  const stateDir = () => join(fixture.root, 'state')
  const downloadDir = () => join(fixture.root, 'downloads')

  beforeAll(async () => {
    tracker = await startBittorrentTracker()
    fixture = await makeFixture({
      name: 'daemon.bin',
      length: 3 * 1024 * 1024 + 99,
      pieceLength: 64 * 1024,
      announce: [tracker.httpUrl],
    })
    seeder = await startLibtorrentSeeder({
      torrentPath: fixture.torrentPath,
      savePath: fixture.seedDir,
      host: '127.0.0.2',
    })
    other = await makeFixture({
      name: 'by-magnet.bin',
      length: 1024 * 1024 + 7,
      pieceLength: 32 * 1024,
      announce: [tracker.httpUrl],
    })
    otherSeeder = await startLibtorrentSeeder({
      torrentPath: other.torrentPath,
      savePath: other.seedDir,
      host: '127.0.0.3',
    })
    await waitForSeeders(tracker.httpUrl, fixture.infoHash, 1)
    await waitForSeeders(tracker.httpUrl, other.infoHash, 1)
  }, 60_000)

  afterAll(async () => {
    if (daemon) await stopBt(daemon)
    await seeder?.stop()
    await otherSeeder?.stop()
    await tracker?.close()
    await removeFixture(fixture)
    await removeFixture(other)
  })

  async function startDaemon(): Promise<void> {
    daemon = spawnBtProcess(
      [
        ...['daemon', '--state-dir', stateDir(), '--download-dir', downloadDir()],
        ...['--rpc-port', '0', '--port', '0', '--no-dht'],
      ],
      { cwd: fixture.root },
    )
    const deadline = Date.now() + 30_000
    for (;;) {
      const match = /RPC on http:\/\/127\.0\.0\.1:(\d+)\/transmission\/rpc/.exec(daemon.output().stdout)
      if (match) {
        rpcPort = Number(match[1])
        return
      }
      if (Date.now() > deadline) throw new Error(`no RPC line:\n${daemon.output().stderr}`)
      await sleep(50)
    }
  }

  async function remote(...args: string[]): Promise<string> {
    const result = await runProgram('transmission-remote', [`127.0.0.1:${rpcPort}`, ...args], 15_000)
    const stdout = result.stdout.toString('utf8')
    expect(result.code, `transmission-remote ${args.join(' ')}: ${result.stderr}${stdout}`).toBe(0)
    return stdout
  }

  async function waitForRow(test: (row: Row) => boolean, what: string): Promise<Row> {
    const deadline = Date.now() + 30_000
    for (;;) {
      const row = rows(await remote('-l')).find(test)
      if (row) return row
      if (Date.now() > deadline) throw new Error(`no row where ${what}:\n${await remote('-l')}`)
      await sleep(250)
    }
  }

  it('adds a torrent that downloads from libtorrent; lists, details, stops and starts it', async () => {
    await startDaemon()
    expect(await remote('-a', fixture.torrentPath)).toMatch(/success/)
    const done = await waitForRow((row) => row.name === fixture.name && row.done === '100%', 'it is complete')
    expect(done.id).toBe(1)
    expect(await compareContent(fixture.contentPath, join(downloadDir(), fixture.name))).toEqual([])
    expect(await remote('-t', '1', '-i')).toContain(`  Hash: ${fixture.infoHash}`)
    // Adding it again changes nothing.
    await remote('-a', fixture.torrentPath)
    expect(rows(await remote('-l'))).toHaveLength(1)
    await remote('-t', '1', '-S')
    await waitForRow((row) => row.id === 1 && row.status === 'Stopped', 'it is stopped')
    await remote('-t', '1', '-s')
    await waitForRow((row) => row.id === 1 && row.status !== 'Stopped', 'it runs again')
  }, 90_000)

  it('a restart from the same state dir brings the torrent back, complete; stopped stays stopped', async () => {
    await remote('-t', '1', '-S')
    await waitForRow((row) => row.id === 1 && row.status === 'Stopped', 'it is stopped')
    const exit = await stopBt(daemon!)
    expect(exit.code, daemon!.output().stderr).toBe(0)
    await startDaemon()
    const row = await waitForRow((r) => r.id === 1, 'it is back')
    expect(row).toMatchObject({ name: fixture.name, done: '100%', status: 'Stopped' })
  }, 60_000)

  it('adds a magnet link: the metadata comes from the swarm and it completes; -si and -st answer', async () => {
    await remote('-t', '1', '-s')
    const magnet = `magnet:?xt=urn:btih:${other.infoHash}&tr=${encodeURIComponent(tracker.httpUrl)}`
    expect(await remote('-a', magnet)).toMatch(/success/)
    const row = await waitForRow((r) => r.name === other.name && r.done === '100%', 'the magnet completed')
    expect(row.id).toBe(2)
    expect(await compareContent(other.contentPath, join(downloadDir(), other.name))).toEqual([])
    // The first torrent's magnet is a duplicate: the list is unchanged.
    await remote('-a', `magnet:?xt=urn:btih:${fixture.infoHash}`)
    expect(rows(await remote('-l'))).toHaveLength(2)
    const info = await remote('-si')
    expect(info).toMatch(/RPC version: 16/)
    expect(await remote('-st')).toMatch(/Downloaded:/)
  }, 30_000)

  it('removes a torrent with its data', async () => {
    await remote('-t', '2', '-r')
    await remote('-t', '1', '--remove-and-delete')
    const deadline = Date.now() + 10_000
    while (rows(await remote('-l')).length > 0 && Date.now() < deadline) await sleep(100)
    expect(rows(await remote('-l'))).toEqual([])
    expect(await stat(join(downloadDir(), fixture.name)).catch(() => undefined)).toBeUndefined()
  }, 30_000)
})

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
  startBittorrentTracker,
} from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RemoteRow, type RunningDaemon, startDaemon } from './daemon-harness.js'
import { stopBt } from './leechers.js'
import { removeFixture, seededFixture, sleep, type TorrentFixture } from './swarm.js'

describeWithTools(['py:libtorrent', 'transmission-remote'], 'bt daemon with transmission-remote', () => {
  let tracker: LoopbackTracker
  let fixture: TorrentFixture
  let seeder: LibtorrentSeeder
  let other: TorrentFixture
  let otherSeeder: LibtorrentSeeder
  let daemon: RunningDaemon | undefined
  const stateDir = () => join(fixture.root, 'state')
  const downloadDir = () => join(fixture.root, 'downloads')

  beforeAll(async () => {
    tracker = await startBittorrentTracker()
    ;({ fixture, seeder } = await seededFixture(tracker.httpUrl, {
      name: 'daemon.bin',
      length: 3 * 1024 * 1024 + 99,
      pieceLength: 64 * 1024,
      host: '127.0.0.2',
    }))
    ;({ fixture: other, seeder: otherSeeder } = await seededFixture(tracker.httpUrl, {
      name: 'by-magnet.bin',
      length: 1024 * 1024 + 7,
      pieceLength: 32 * 1024,
      host: '127.0.0.3',
    }))
  }, 60_000)

  afterAll(async () => {
    if (daemon) await stopBt(daemon.process)
    await seeder?.stop()
    await otherSeeder?.stop()
    await tracker?.close()
    await removeFixture(fixture)
    await removeFixture(other)
  })

  async function restart(): Promise<void> {
    daemon = await startDaemon({ stateDir: stateDir(), downloadDir: downloadDir(), cwd: fixture.root })
  }
  const remote = (...args: string[]) => daemon!.remote(...args)
  const waitForRow = (test: (row: RemoteRow) => boolean, what: string) => daemon!.waitForRow(test, what)

  it('adds a torrent that downloads from libtorrent; lists, details, stops and starts it', async () => {
    await restart()
    expect(await remote('-a', fixture.torrentPath)).toMatch(/success/)
    const done = await waitForRow((row) => row.name === fixture.name && row.done === '100%', 'it is complete')
    expect(done.id).toBe(1)
    expect(await compareContent(fixture.contentPath, join(downloadDir(), fixture.name))).toEqual([])
    expect(await remote('-t', '1', '-i')).toContain(`  Hash: ${fixture.infoHash}`)
    expect(await remote('-t', '1', '--reannounce')).toMatch(/success/)
    // A per-torrent limit (KB/s), kept by the session and shown back.
    await remote('-t', '1', '-d', '200')
    expect(await remote('-t', '1', '-i')).toMatch(/Download Limit: 200 kB\/s/)
    await remote('-t', '1', '-D')
    expect(await remote('-t', '1', '-i')).toMatch(/Download Limit: Unlimited/)
    // Adding it again changes nothing.
    await remote('-a', fixture.torrentPath)
    expect(await daemon!.rows()).toHaveLength(1)
    await remote('-t', '1', '-S')
    await waitForRow((row) => row.id === 1 && row.status === 'Stopped', 'it is stopped')
    await remote('-t', '1', '-s')
    await waitForRow((row) => row.id === 1 && row.status !== 'Stopped', 'it runs again')
  }, 90_000)

  it('a restart from the same state dir brings the torrent back, complete; stopped stays stopped', async () => {
    await remote('-t', '1', '-S')
    await waitForRow((row) => row.id === 1 && row.status === 'Stopped', 'it is stopped')
    const exit = await stopBt(daemon!.process)
    expect(exit.code, daemon!.process.output().stderr).toBe(0)
    await restart()
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
    expect(await daemon!.rows()).toHaveLength(2)
    const info = await remote('-si')
    expect(info).toMatch(/RPC version: 16/)
    expect(await remote('-st')).toMatch(/Downloaded:/)
  }, 30_000)

  it('moves a torrent’s data (--move) and back, and keeps seed, peer and session limits across a restart', async () => {
    const moved = join(fixture.root, 'moved')
    await remote('-t', '1', '--move', moved)
    expect(await compareContent(fixture.contentPath, join(moved, fixture.name))).toEqual([])
    expect(await stat(join(downloadDir(), fixture.name)).catch(() => undefined)).toBeUndefined()
    expect(await remote('-t', '1', '-i')).toContain(`Location: ${moved}`)
    // Transmission shows a seed without peers as Idle.
    const seeds = (r: RemoteRow) => r.id === 1 && r.done === '100%' && ['Seeding', 'Idle'].includes(r.status)
    await waitForRow(seeds, 'it seeds from there')
    await remote('-t', '1', '--move', downloadDir())
    expect(await compareContent(fixture.contentPath, join(downloadDir(), fixture.name))).toEqual([])

    await remote('-t', '1', '-sr', '0.5')
    await remote('-t', '2', '-pr', '7')
    await remote('-d', '300', '-X')
    await remote('-as')
    await remote('-er')
    const stopped = await stopBt(daemon!.process)
    expect(stopped.code, daemon!.process.output().stderr).toBe(0)
    await restart()
    const details = await remote('-t', '1', '-i')
    expect(details).toMatch(/Ratio Limit: 0\.5/)
    expect(await remote('-t', '2', '-i')).toMatch(/Peer limit: 7/)
    const session = await remote('-si')
    // Turtle mode on: its limit is in force, the normal one kept for later.
    expect(session).toMatch(/Download speed limit: 50 kB\/s \(Enabled limit: 300 kB\/s; Enabled turtle limit/)
    expect(session).toMatch(/Peer exchange allowed: No/)
    expect(session).toMatch(/Encryption: required/)
    await remote('-et')
    expect(await remote('-si')).toMatch(/Encryption: tolerated/)
    await remote('-t', '1', '-srd', '-AS')
    expect(await remote('-t', '1', '-i')).toMatch(/Ratio Limit: Default/)
  }, 60_000)

  it('renames a torrent’s file through torrent-rename-path, and refuses paths that leave it', async () => {
    const rename = (path: string, name: string) =>
      daemon!.rpc('torrent-rename-path', { ids: [1], path, name })
    expect(await rename(fixture.name, 'renamed.bin')).toEqual({
      result: 'success',
      arguments: { id: 1, path: fixture.name, name: 'renamed.bin' },
    })
    expect(await compareContent(fixture.contentPath, join(downloadDir(), 'renamed.bin'))).toEqual([])
    await waitForRow((r) => r.id === 1 && r.name === 'renamed.bin', 'it shows its new name')
    for (const [path, name] of [
      ['renamed.bin', '../escape.bin'],
      ['../renamed.bin', 'x.bin'],
      ['renamed.bin', ''],
      ['nothing.bin', 'x.bin'],
    ] as const) {
      expect((await rename(path, name)).result).not.toBe('success')
    }
    expect(await stat(join(fixture.root, 'escape.bin')).catch(() => undefined)).toBeUndefined()
    expect((await rename('renamed.bin', fixture.name)).result).toBe('success')
    await waitForRow((r) => r.id === 1 && r.name === fixture.name, 'it has its name back')
  }, 30_000)

  it('removes a torrent with its data', async () => {
    await remote('-t', '2', '-r')
    await remote('-t', '1', '--remove-and-delete')
    const deadline = Date.now() + 10_000
    while ((await daemon!.rows()).length > 0 && Date.now() < deadline) await sleep(100)
    expect(await daemon!.rows()).toEqual([])
    expect(await stat(join(downloadDir(), fixture.name)).catch(() => undefined)).toBeUndefined()
  }, 30_000)
})

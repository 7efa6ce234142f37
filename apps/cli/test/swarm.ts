// Shared setup for the download tests: content and its torrent, a tracker that knows when the seeders
// have announced, copies of the content for each real seeder, and `bt` runs whose --json lines are parsed.

import { spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToKey, decode } from '@bt/bencode'
import type { TorrentProgress } from '@bt/client-core'
import { createTorrent } from '@bt/metainfo'
import {
  type ContentFileSpec,
  type LibtorrentSeeder,
  type LoopbackTracker,
  startBittorrentTracker,
  startLibtorrentSeeder,
  writeContentTree,
} from '@bt/test-helpers'
import type { AlertJson } from '../src/alert-output.js'
import { type BtResult, cliRoot, runBt, tsxLoader } from './run-bt.js'

export interface TorrentFixture {
  /** Temp directory holding everything below; `removeFixture` deletes it. */
  root: string
  name: string
  /** The directory that holds the content as `<name>` (what seeders and `bt verify` are given). */
  seedDir: string
  /** The content itself: the file, or the folder of a multi-file torrent. */
  contentPath: string
  torrentPath: string
  infoHash: string
  pieceLength: number
  pieceCount: number
  length: number
  /** What was written, by path under the content root (`name` itself for a single file). */
  data: Map<string, Buffer>
}

export interface FixtureInit {
  name: string
  pieceLength: number
  /** Trackers, each a tier of its own. */
  announce?: string[]
  /** A single file of this many bytes… */
  length?: number
  /** …or a multi-file torrent of these files… */
  files?: ContentFileSpec[]
  /** …or a single file of exactly these bytes (a media clip). */
  content?: Uint8Array
}

/** Writes pseudo-random content under a fresh temp dir and makes its torrent with @bt/metainfo. */
export async function makeFixture(init: FixtureInit): Promise<TorrentFixture> {
  const root = await mkdtemp(join(tmpdir(), 'bt-download-'))
  try {
    const seedDir = join(root, 'seed')
    const contentPath = join(seedDir, init.name)
    let data: Map<string, Buffer>
    if (init.content !== undefined) {
      await mkdir(seedDir, { recursive: true })
      await writeFile(contentPath, init.content)
      data = new Map([[init.name, Buffer.from(init.content)]])
    } else if (init.files !== undefined) data = await writeContentTree(contentPath, init.files, init.name)
    else data = await writeContentTree(seedDir, [{ path: init.name, length: init.length ?? 0 }], init.name)
    const created = await createTorrent(contentPath, {
      pieceLength: init.pieceLength,
      ...(init.announce !== undefined ? { announce: init.announce } : {}),
    })
    const torrentPath = join(root, `${init.name}.torrent`)
    await writeFile(torrentPath, created.torrent)
    return {
      root,
      name: init.name,
      seedDir,
      contentPath,
      torrentPath,
      infoHash: created.infoHash,
      pieceLength: created.pieceLength,
      pieceCount: created.pieceCount,
      length: created.length,
      data,
    }
  } catch (error) {
    await rm(root, { recursive: true, force: true })
    throw error
  }
}

export async function removeFixture(fixture: TorrentFixture | undefined): Promise<void> {
  if (fixture) await rm(fixture.root, { recursive: true, force: true })
}

/** A private copy of the seed directory, so seeders that write beside the content never share files. */
export async function copyOfSeedDir(fixture: TorrentFixture, label: string): Promise<string> {
  const dir = join(fixture.root, label)
  await mkdir(dir, { recursive: true })
  await cp(fixture.contentPath, join(dir, fixture.name), { recursive: true })
  return dir
}

/** A fresh empty directory under the fixture's root. */
export async function freshDir(fixture: TorrentFixture, label: string): Promise<string> {
  const dir = join(fixture.root, label)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  return dir
}

/** The bytes of piece `index` of a single-file fixture. */
export function pieceBytes(fixture: TorrentFixture, index: number): Buffer {
  const content = fixture.data.get(fixture.name)
  if (!content) throw new Error('pieceBytes: not a single-file fixture')
  return content.subarray(index * fixture.pieceLength, (index + 1) * fixture.pieceLength)
}

/** Seeders and leechers an HTTP tracker reports for an info hash, from its scrape. */
export async function scrapeCounts(
  announceUrl: string,
  infoHash: string,
): Promise<{ complete: number; incomplete: number }> {
  const hash = Buffer.from(infoHash, 'hex')
  const query = [...hash].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
  const url = `${announceUrl.replace(/\/announce$/, '/scrape')}?info_hash=${query}`
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  const body = decode(new Uint8Array(await response.arrayBuffer()))
  const files = body instanceof Map ? body.get('files') : undefined
  // bittorrent-tracker writes the key as the UTF-8 encoding of the binary string (33 bytes, not 20):
  // one info hash was asked for, so its entry is the only one.
  const entry = files instanceof Map ? (files.get(bytesToKey(hash)) ?? [...files.values()][0]) : undefined
  const count = (key: string) => {
    const value = entry instanceof Map ? entry.get(key) : undefined
    return typeof value === 'number' ? value : 0
  }
  return { complete: count('complete'), incomplete: count('incomplete') }
}

/**
 * Waits until the tracker lists `count` seeders: a client that announces before them would only hear
 * of them on its next announce, minutes later.
 */
export function waitForSeeders(announceUrl: string, infoHash: string, count: number, timeoutMs = 30_000) {
  return waitForScrape(announceUrl, infoHash, 'complete', count, timeoutMs)
}

/** Waits until the tracker lists `count` leechers (e.g. Transmission has announced). */
export function waitForLeechers(announceUrl: string, infoHash: string, count: number, timeoutMs = 30_000) {
  return waitForScrape(announceUrl, infoHash, 'incomplete', count, timeoutMs)
}

async function waitForScrape(
  announceUrl: string,
  infoHash: string,
  field: 'complete' | 'incomplete',
  count: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let seen = 0
  while (Date.now() < deadline) {
    seen = (await scrapeCounts(announceUrl, infoHash).catch(() => ({ complete: 0, incomplete: 0 })))[field]
    if (seen >= count) return
    await sleep(100)
  }
  const what = field === 'complete' ? 'seeders' : 'leechers'
  throw new Error(`the tracker lists ${seen} of ${count} ${what} after ${timeoutMs} ms`)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** One alert line of `--json` (see `reportAlerts`). */
export type AlertEvent = AlertJson
export type AlertType = AlertJson['event']

// Every alert type, checked complete by the compiler: lines of other events are not alerts.
const ALERT_TYPES: ReadonlySet<string> = new Set(
  Object.keys({
    'peer-banned': true,
    'peer-dropped': true,
    'peer-disconnected': true,
    'peers-unreachable': true,
    'tracker-failed': true,
    'all-trackers-failed': true,
    'piece-failed': true,
    'metadata-failed': true,
    'dht-failed': true,
    'web-seed-failed': true,
    'web-seed-dropped': true,
  } satisfies Record<AlertType, true>),
)

/** One `--json` line of `bt download`. */
export type DownloadEvent =
  | ({ event: 'progress' } & TorrentProgress)
  | AlertEvent
  | { event: 'done'; torrent: string; path: string }

export function parseEvents(stdout: string): DownloadEvent[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as DownloadEvent)
}

export function progressEvents(events: readonly DownloadEvent[]) {
  return events.flatMap((event) => (event.event === 'progress' ? [event] : []))
}

/** Every alert line, in order. */
export function alerts(events: readonly { event: string }[]): AlertEvent[] {
  return events.filter((event): event is AlertEvent => ALERT_TYPES.has(event.event))
}

/** The alert lines of one type, e.g. `alertsOfType(run.events, 'peer-banned')`. */
export function alertsOfType<T extends AlertType>(
  events: readonly { event: string }[],
  type: T,
): Extract<AlertEvent, { event: T }>[] {
  return alerts(events).filter((event): event is Extract<AlertEvent, { event: T }> => event.event === type)
}

/** The IP of an `ip:port` (or `[ipv6]:port`) address. */
export function hostOf(address: string): string {
  const colon = address.lastIndexOf(':')
  const host = colon < 0 ? address : address.slice(0, colon)
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** The alerts' messages, one a line, for assertion messages. */
export function describeAlerts(events: readonly { event: string }[]): string {
  return alerts(events)
    .map((alert) => `${alert.event}: ${alert.message}`)
    .join('\n')
}

export interface BtRun extends BtResult {
  events: DownloadEvent[]
  ms: number
}

/** `bt …` in-process, aborted (exit 130) after `timeoutMs`, with its --json lines parsed. */
export async function bt(
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<BtRun> {
  const started = Date.now()
  const result = await runBt(args, {
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  })
  return { ...result, events: parseEvents(result.stdout), ms: Date.now() - started }
}

/**
 * A single-file fixture announced to `trackerUrl` and seeded by libtorrent on `host` (at most
 * `uploadRate` bytes/s when given); resolves once the tracker lists the seeder.
 */
export async function seededFixture(
  trackerUrl: string,
  init: { name: string; length: number; pieceLength: number; host: string; uploadRate?: number },
): Promise<{ fixture: TorrentFixture; seeder: LibtorrentSeeder }> {
  const fixture = await makeFixture({
    name: init.name,
    length: init.length,
    pieceLength: init.pieceLength,
    announce: [trackerUrl],
  })
  const seeder = await startLibtorrentSeeder({
    torrentPath: fixture.torrentPath,
    savePath: fixture.seedDir,
    host: init.host,
    ...(init.uploadRate !== undefined ? { settings: throttled(init.uploadRate) } : {}),
  })
  await waitForSeeders(trackerUrl, fixture.infoHash, 1)
  return { fixture, seeder }
}

/** The honest half of a swarm that liars join: a tracker and a slowed libtorrent seeder of a fresh fixture. */
export interface HonestSwarm {
  tracker: LoopbackTracker
  fixture: TorrentFixture
  seeder: LibtorrentSeeder
  close(): Promise<void>
}

/**
 * A single-file fixture announced to a fresh bittorrent-tracker and seeded by libtorrent on
 * `seederHost` at `uploadRate` bytes/s (slow enough for a liar to get a share); resolves once the
 * tracker lists the seeder.
 */
export async function startHonestSwarm(init: {
  name: string
  length: number
  pieceLength: number
  seederHost: string
  uploadRate: number
}): Promise<HonestSwarm> {
  const tracker = await startBittorrentTracker()
  const { fixture, seeder } = await seededFixture(tracker.httpUrl, {
    name: init.name,
    length: init.length,
    pieceLength: init.pieceLength,
    host: init.seederHost,
    uploadRate: init.uploadRate,
  })
  return {
    tracker,
    fixture,
    seeder,
    async close() {
      await seeder.stop()
      await tracker.close()
      await removeFixture(fixture)
    },
  }
}

/** A human-readable summary of a run for assertion messages. */
export function describeRun(run: BtResult): string {
  const lines = run.stdout.split('\n')
  const tail = lines.slice(-15).join('\n')
  return `exit ${run.code}\nstderr: ${run.stderr.slice(-2000)}\nstdout (last lines):\n${tail}`
}

export interface BtProcess {
  /** Every --json event so far. */
  readonly events: DownloadEvent[]
  /**
   * Resolves with the first event from `events[from]` on that `test` accepts; rejects if the process
   * exits first.
   */
  waitFor(test: (event: DownloadEvent) => boolean, timeoutMs: number, from?: number): Promise<DownloadEvent>
  kill(signal: NodeJS.Signals): void
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  output(): { stdout: string; stderr: string }
}

/** The `seeding` event of a `bt seed --json` process: the port it listens on, the torrent it seeds. */
export async function seedingEvent(
  process: BtProcess,
  timeoutMs = 30_000,
): Promise<{ port: number; infoHash: string }> {
  const event = await process.waitFor((each) => (each as { event: string }).event === 'seeding', timeoutMs)
  return event as unknown as { port: number; infoHash: string }
}

/** `bt` as a real process (from sources through tsx), so a test can SIGKILL it mid-download. */
export function spawnBtProcess(args: readonly string[], options: { cwd: string }): BtProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=@bt/source', '--import', tsxLoader, join(cliRoot, 'src', 'bt.ts'), ...args],
    { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  let partial = ''
  const events: DownloadEvent[] = []
  const waiters = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    partial += chunk
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as DownloadEvent)
    for (const wake of waiters) wake()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000)
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      for (const wake of waiters) wake()
      resolve({ code, signal })
    })
  })
  return {
    events,
    exited,
    output: () => ({ stdout, stderr }),
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
    waitFor(test, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        let checked = from
        const check = () => {
          for (; checked < events.length; checked++) {
            const event = events[checked]!
            if (test(event)) return finish(undefined, event)
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            finish(new Error(`bt exited (${child.exitCode ?? child.signalCode}) first:\n${stderr}`))
          }
        }
        const timer = setTimeout(
          () => finish(new Error(`no matching event within ${timeoutMs} ms:\n${stderr}`)),
          timeoutMs,
        )
        const finish = (error: Error | undefined, event?: DownloadEvent) => {
          clearTimeout(timer)
          waiters.delete(check)
          if (error) reject(error)
          else resolve(event!)
        }
        waiters.add(check)
        check()
      })
    },
  }
}

/**
 * libtorrent settings for a seeder that uploads at most `bytesPerSecond`. libtorrent 2.0 puts loopback
 * peers in its unlimited "local" peer class; the deprecated `ignore_limits_on_local_network` still
 * takes them out of it.
 */
export function throttled(bytesPerSecond: number): Record<string, number | boolean> {
  return { upload_rate_limit: bytesPerSecond, ignore_limits_on_local_network: false }
}

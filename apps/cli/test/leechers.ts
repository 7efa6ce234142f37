// Leechers for the `bt seed` tests: libtorrent (lt_seed.py leech), a tracker's swarm counts from its
// scrape, byte-for-byte checks of a finished download, and a clean stop of a `bt` process.
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { compareContent, listFiles, type StartedProcess, startProcess } from '@bt/test-helpers'
import { repoRoot } from './run-bt.js'
import { type BtProcess, sleep, type TorrentFixture } from './swarm.js'

const LT_SCRIPT = join(repoRoot, 'tooling', 'test-helpers', 'scripts', 'lt_seed.py')

export interface LibtorrentLeecher {
  process: StartedProcess
  /** Exit code once it has finished (0 after `{"event": "done"}`), or null if it was killed. */
  exited: Promise<number | null>
  /** Whether it printed its `done` line (every piece verified). */
  done(): boolean
  stop(): Promise<void>
}

/**
 * libtorrent downloading `torrentPath` into `savePath` from the torrent's trackers and `peers`; it
 * exits 0 once every piece is verified (or 1 after `timeoutS`).
 */
export function startLibtorrentLeecher(init: {
  torrentPath: string
  savePath: string
  peers?: readonly string[]
  /** The address it listens on, dials and announces from; default 127.0.0.1. */
  host?: string
  settings?: Record<string, string | number | boolean>
  timeoutS?: number
}): LibtorrentLeecher {
  const args = [LT_SCRIPT, 'leech', '--torrent', init.torrentPath, '--save-path', init.savePath]
  if (init.host !== undefined) args.push('--host', init.host)
  for (const peer of init.peers ?? []) args.push('--peer', peer)
  if (init.settings) args.push('--settings', JSON.stringify(init.settings))
  args.push('--timeout', `${init.timeoutS ?? 60}`)
  const process = startProcess('/usr/bin/python3', args)
  return {
    process,
    exited: process.exited,
    done: () => process.output().includes('"event": "done"'),
    stop: () => process.stop(),
  }
}

/**
 * libtorrent settings for a leecher that downloads at most `bytesPerSecond` (loopback peers are in
 * libtorrent 2.0's unlimited local class unless the deprecated setting takes them out of it).
 */
export function throttledDownload(bytesPerSecond: number): Record<string, number | boolean> {
  return { download_rate_limit: bytesPerSecond, ignore_limits_on_local_network: false }
}

/**
 * Differences between the fixture's content and a download of it (`[]` when every byte matches).
 * `allowMissingEmpty` forgives absent 0-byte files: Transmission never creates them.
 */
export async function contentDifferences(
  fixture: TorrentFixture,
  downloadDir: string,
  options: { allowMissingEmpty?: boolean } = {},
): Promise<string[]> {
  const actual = join(downloadDir, fixture.name)
  const differences = await compareContent(fixture.contentPath, actual)
  if (!options.allowMissingEmpty) return differences
  const empty = new Set(
    [...fixture.data].filter(([, bytes]) => bytes.length === 0).map(([path]) => `${path}: missing`),
  )
  return differences.filter((line) => !empty.has(line))
}

/**
 * Polls a download that does not say when it is complete (transmission-cli never exits) until its
 * content matches; returns the last differences if it does not within `timeoutMs`.
 */
export async function waitForContent(
  fixture: TorrentFixture,
  downloadDir: string,
  timeoutMs: number,
  options: { allowMissingEmpty?: boolean; stillRunning?: () => boolean } = {},
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  let differences: string[] = ['not checked yet']
  while (Date.now() < deadline) {
    // Reading every file is cheap at this size, but skip it until the sizes can possibly match.
    if (await sizesMatch(fixture, downloadDir)) {
      differences = await contentDifferences(fixture, downloadDir, options)
      if (differences.length === 0) return []
    } else {
      differences = ['sizes do not match yet']
    }
    if (options.stillRunning && !options.stillRunning()) break
    await sleep(250)
  }
  const files = await listFiles(join(downloadDir, fixture.name)).catch(() => [])
  return [...differences, `files present: ${files.join(', ')}`]
}

async function sizesMatch(fixture: TorrentFixture, downloadDir: string): Promise<boolean> {
  for (const [path, bytes] of fixture.data) {
    if (bytes.length === 0) continue
    const target = fixture.data.size === 1 && path === fixture.name ? [path] : [fixture.name, path]
    const size = await stat(join(downloadDir, ...target.flatMap((part) => part.split('/'))))
      .then((info) => info.size)
      .catch(() => -1)
    if (size !== bytes.length) return false
  }
  return true
}

/**
 * Stops a `bt` process: SIGINT (it tells its trackers and exits 130), SIGKILL if it has not exited
 * within `graceMs`. Returns how it exited.
 */
export async function stopBt(
  bt: BtProcess,
  graceMs = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  bt.kill('SIGINT')
  const timer = setTimeout(() => bt.kill('SIGKILL'), graceMs)
  try {
    return await bt.exited
  } finally {
    clearTimeout(timer)
  }
}

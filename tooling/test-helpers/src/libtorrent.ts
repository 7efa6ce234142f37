// libtorrent 2.0 (Debian's python3-libtorrent) as a real peer for interop tests: a seeder on a loopback
// address of its own and a torrent maker, both driven by scripts/lt_seed.py. Needs
// `describeWithTools(['py:libtorrent'], …)`.
import { fileURLToPath } from 'node:url'
import { type StartedProcess, startProcess } from './processes.js'

const SCRIPT = fileURLToPath(new URL('../scripts/lt_seed.py', import.meta.url))
const PYTHON = '/usr/bin/python3'

export interface LibtorrentSeederInit {
  torrentPath: string
  /** The directory that holds the torrent's content (libtorrent's `save_path`). */
  savePath: string
  /**
   * The address it listens on and dials from; default 127.0.0.1. Give each peer of a test its own
   * (127.0.0.2, 127.0.0.3, …: Linux routes all of 127.0.0.0/8 to `lo`), so a ban of one IP spares the rest.
   */
  host?: string
  /** TCP port on `host`; 0 (default) lets libtorrent choose. */
  port?: number
  /**
   * libtorrent settings overriding the loopback defaults (`high_performance_seed`, no DHT/LSD/uTP…),
   * e.g. `{ out_enc_policy: 0, in_enc_policy: 0 }` for a seeder that only speaks encrypted.
   */
  settings?: Record<string, string | number | boolean>
  /** How long to wait for the torrent to be checked and seeding. Default 60 s. */
  timeoutMs?: number
  /**
   * A network namespace to run it in (`ip netns exec`, as root): benchmarks put the seeder behind a
   * shaped veth link there. `host` must then be an address of that namespace.
   */
  netns?: string
}

export interface LibtorrentSeeder {
  /** The address it accepts peers on and dials from. */
  host: string
  /** The port it accepts peers on. */
  port: number
  /** The torrent's v1 info hash, hex, as libtorrent computed it. */
  infoHash: string
  /** The start of the peer ids it uses, e.g. `-LT2080-` (the rest is random per torrent). */
  peerIdPrefix: string
  process: StartedProcess
  stop(): Promise<void>
}

/** Starts a libtorrent seeder and resolves once the torrent is verified, seeding and listening. */
export async function startLibtorrentSeeder(init: LibtorrentSeederInit): Promise<LibtorrentSeeder> {
  const args = [SCRIPT, 'seed', '--torrent', init.torrentPath, '--save-path', init.savePath]
  args.push('--host', init.host ?? '127.0.0.1', '--port', `${init.port ?? 0}`)
  if (init.settings) args.push('--settings', JSON.stringify(init.settings))
  const timeoutMs = init.timeoutMs ?? 60_000
  args.push('--timeout', `${Math.ceil(timeoutMs / 1000)}`)
  const process =
    init.netns === undefined
      ? startProcess(PYTHON, args)
      : startProcess('ip', ['netns', 'exec', init.netns, PYTHON, ...args])
  try {
    const ready = await firstEvent(process, timeoutMs + 5_000)
    if (ready.event !== 'ready') throw new Error(`libtorrent seeder failed: ${ready.message}`)
    return {
      host: String(ready.host),
      port: Number(ready.port),
      infoHash: String(ready.infoHash),
      peerIdPrefix: String(ready.peerIdPrefix),
      process,
      stop: () => process.stop(),
    }
  } catch (error) {
    await process.stop()
    throw error
  }
}

/**
 * Writes a .torrent for `contentPath` (a file or a directory) with libtorrent's `create_torrent`, and
 * returns its v1 info hash (hex).
 */
export async function makeTorrentWithLibtorrent(init: {
  contentPath: string
  torrentPath: string
  pieceLength?: number
  trackers?: readonly string[]
}): Promise<{ infoHash: string }> {
  const args = [SCRIPT, 'make', '--content', init.contentPath, '--torrent', init.torrentPath]
  if (init.pieceLength !== undefined) args.push('--piece-length', `${init.pieceLength}`)
  for (const tracker of init.trackers ?? []) args.push('--tracker', tracker)
  const process = startProcess(PYTHON, args)
  try {
    const made = await firstEvent(process, 60_000)
    if (made.event !== 'made') throw new Error(`libtorrent could not make the torrent: ${made.message}`)
    return { infoHash: String(made.infoHash) }
  } finally {
    await process.stop()
  }
}

type ScriptEvent = { event: string; message?: string } & Record<string, unknown>

/** The first JSON line the script prints; fails if it exits or stays silent for `timeoutMs`. */
function firstEvent(process: StartedProcess, timeoutMs: number): Promise<ScriptEvent> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const stdout = process.child.stdout!
    let done = false
    const finish = (error: Error | undefined, event?: ScriptEvent) => {
      if (done) return
      done = true
      clearTimeout(timer)
      process.child.off('close', onClose)
      stdout.off('data', onData)
      if (error) reject(error)
      else resolve(event!)
    }
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const newline = buffered.indexOf('\n')
      if (newline < 0) return
      try {
        finish(undefined, JSON.parse(buffered.slice(0, newline)) as ScriptEvent)
      } catch {
        finish(new Error(`unexpected output from lt_seed.py:\n${process.output()}`))
      }
    }
    const timer = setTimeout(
      () => finish(new Error(`lt_seed.py said nothing within ${timeoutMs} ms:\n${process.output()}`)),
      timeoutMs,
    )
    // 'close' comes after the last stdout data, unlike 'exit'.
    const onClose = (code: number | null) =>
      finish(new Error(`lt_seed.py exited with ${code} before it was ready:\n${process.output()}`))
    stdout.on('data', onData)
    process.child.once('close', onClose)
  })
}

// The demo behind `pnpm demo`: random content, our seeder, the real `bt download` as the leecher, then
// a byte-for-byte check (SHA-1 of both files) and the speed. Loopback only, everything cleaned up.
import { spawn } from 'node:child_process'
import { createHash, randomFill } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { DemoError } from './errors.js'
import { startSeeder } from './seeder.js'

/** Fetches the torrent at `torrentPath` into `directory` (as `directory/<name>`). */
export type Downloader = (
  job: { torrentPath: string; directory: string },
  options: { signal: AbortSignal },
) => Promise<void>

export interface DemoInit {
  /** Payload size in bytes (default 256 MiB). */
  sizeBytes?: number
  /** Default: the built `bt` command (`apps/cli/dist/bt.js`). */
  downloader?: Downloader
  /** Progress lines (default: none). */
  log?: (line: string) => void
  /** The download must finish within this (default 10 minutes). */
  timeoutMs?: number
}

export interface DemoResult {
  sizeBytes: number
  /** SHA-1 of the payload, hex; the downloaded copy had the same. */
  sha1: string
  /** Wall time of the download, from starting the downloader until it exited. */
  seconds: number
  bytesPerSecond: number
}

export const DEFAULT_DEMO_SIZE = 256 * 1024 * 1024
const CHUNK = 4 * 1024 * 1024
const randomFillAsync = promisify(randomFill)

/** Runs the demo; throws `DemoError` (or the signal's reason) on any failure, after cleaning up. */
export async function runDemo(
  init: DemoInit = {},
  options: { signal?: AbortSignal } = {},
): Promise<DemoResult> {
  const sizeBytes = init.sizeBytes ?? DEFAULT_DEMO_SIZE
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1)
    throw new DemoError(`size must be a positive number of bytes, got ${sizeBytes}`)
  const log = init.log ?? (() => {})
  const downloader = init.downloader ?? btDownloader(builtBtCommand())
  const signal = AbortSignal.any([
    ...(options.signal ? [options.signal] : []),
    AbortSignal.timeout(init.timeoutMs ?? 600_000),
  ])
  const work = await mkdtemp(join(tmpdir(), 'bt-demo-'))
  try {
    const source = join(work, 'seed', 'bt-demo.bin')
    await mkdir(dirname(source))
    log(`Writing ${formatSize(sizeBytes)} of random data to ${source}…`)
    const sha1 = await writeRandomFile(source, sizeBytes, signal)

    log('Making the torrent and starting the seeder and a tracker on 127.0.0.1…')
    const seeder = await startSeeder({ path: source, torrentPath: join(work, 'bt-demo.torrent') }, { signal })
    try {
      log(`Seeding ${seeder.infoHash} on 127.0.0.1:${seeder.port}, tracker ${seeder.trackerUrl}`)
      log(`Magnet: ${seeder.magnet}`)
      log('Downloading with bt download…')
      const directory = join(work, 'download')
      const started = performance.now()
      await downloader({ torrentPath: seeder.torrentPath, directory }, { signal })
      const seconds = (performance.now() - started) / 1000

      const copy = join(directory, seeder.name)
      const copySize = await stat(copy).then(
        (stats) => stats.size,
        () => undefined,
      )
      if (copySize !== sizeBytes)
        throw new DemoError(`the download ended but ${copy} has ${copySize ?? 'no'} bytes, not ${sizeBytes}`)
      const copySha1 = await sha1OfFile(copy, signal)
      if (copySha1 !== sha1) throw new DemoError(`SHA-1 mismatch: source ${sha1}, download ${copySha1}`)
      return { sizeBytes, sha1, seconds, bytesPerSecond: sizeBytes / seconds }
    } finally {
      await seeder.stop()
    }
  } catch (error) {
    if (signal.aborted && !options.signal?.aborted)
      throw new DemoError('timed out', { cause: error instanceof Error ? error : signal.reason })
    throw error
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** `node apps/cli/dist/bt.js`: the built `bt`, next to this app in the workspace. */
export function builtBtCommand(): string[] {
  const here = dirname(fileURLToPath(import.meta.url))
  // Same depth from src/ and dist/: apps/seeder/<dir>/ → apps/cli/dist/bt.js.
  return [process.execPath, join(here, '..', '..', 'cli', 'dist', 'bt.js')]
}

/**
 * A downloader that runs `<command…> download <torrent> -d <dir> -q` as a child process (stopped with
 * SIGINT, as Ctrl-C, when the signal aborts) and fails with its output unless it exits 0.
 */
export function btDownloader(command: readonly string[]): Downloader {
  const [program, ...prefix] = command
  if (program === undefined) throw new DemoError('the bt command is empty')
  return ({ torrentPath, directory }, { signal }) => {
    signal.throwIfAborted()
    const script = prefix.find((arg) => arg.endsWith('bt.js'))
    if (script !== undefined && !existsSync(script))
      return Promise.reject(new DemoError(`${script} is missing: build it first (pnpm demo does)`))
    return new Promise<void>((resolve, reject) => {
      // The demo swarm is loopback only: no DHT, whose routers are on the internet.
      const child = spawn(program, [...prefix, 'download', torrentPath, '-d', directory, '-q', '--no-dht'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      const collect = (chunk: string) => {
        // Enough to explain a failure; a chatty child cannot fill memory.
        if (output.length < 64 * 1024) output += chunk
      }
      child.stdout.setEncoding('utf8').on('data', collect)
      child.stderr.setEncoding('utf8').on('data', collect)
      const onAbort = () => child.kill('SIGINT')
      signal.addEventListener('abort', onAbort, { once: true })
      child.once('error', (error) => {
        signal.removeEventListener('abort', onAbort)
        reject(new DemoError(`cannot run ${program}: ${error.message}`, { cause: error }))
      })
      child.once('close', (code, killedBy) => {
        signal.removeEventListener('abort', onAbort)
        if (code === 0) resolve()
        else if (signal.aborted) reject(signal.reason)
        else
          reject(
            new DemoError(
              `bt download exited with ${code ?? killedBy}:\n${output.trimEnd() || '(no output)'}`,
            ),
          )
      })
    })
  }
}

async function writeRandomFile(path: string, size: number, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha1')
  const file = await open(path, 'wx')
  try {
    const buffer = Buffer.alloc(Math.min(CHUNK, size))
    for (let written = 0; written < size; ) {
      signal.throwIfAborted()
      const chunk = buffer.subarray(0, Math.min(buffer.length, size - written))
      await randomFillAsync(chunk)
      hash.update(chunk)
      await file.write(chunk, 0, chunk.length, written)
      written += chunk.length
    }
  } finally {
    await file.close()
  }
  return hash.digest('hex')
}

async function sha1OfFile(path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha1')
  const file = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(CHUNK)
    for (let position = 0; ; ) {
      signal.throwIfAborted()
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
      position += bytesRead
    }
  } finally {
    await file.close()
  }
  return hash.digest('hex')
}

/** `256 MiB`, `8 KiB`, `123 B`. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`
}

/** A size given on the command line: `64` or `64M`/`64MiB` (MiB), `512K`, `1G`, `1000B` (bytes). */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?\s*$/i.exec(text)
  if (!match) throw new DemoError(`'${text}' is not a size (e.g. 256, 64MiB, 1GiB)`)
  const unit = (match[2] ?? '').toLowerCase()
  const scale =
    unit === 'k'
      ? 1024
      : unit === 'g'
        ? 1024 ** 3
        : unit === '' && match[3]?.toLowerCase() === 'b'
          ? 1
          : 1024 ** 2
  const bytes = Math.round(Number(match[1]) * scale)
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new DemoError(`'${text}' is not a usable size`)
  return bytes
}

// Shared by the benchmarks: a cached random payload, timing a command with /usr/bin/time, hashing a file.
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

export interface Measured {
  wallSeconds: number
  /** User + system. */
  cpuSeconds: number
  userSeconds: number
  systemSeconds: number
  peakRssMiB: number
  /** Page faults served without I/O: memory the process made the kernel hand it. */
  minorFaults: number
}

/** Writes `bytes` random bytes to `path` unless a file of that size is already there. */
export async function ensurePayload(path: string, bytes: number): Promise<void> {
  if ((await stat(path).catch(() => undefined))?.size === bytes) return
  await mkdir(dirname(path), { recursive: true })
  const chunk = 16 * 1024 * 1024
  const parts: Buffer[] = []
  for (let written = 0; written < bytes; written += chunk)
    parts.push(randomBytes(Math.min(chunk, bytes - written)))
  await writeFile(path, Buffer.concat(parts))
}

export interface TimedProcess {
  /** Lines the command printed on stdout so far. */
  readonly lines: string[]
  /** Resolves once a stdout line satisfies `test`. */
  waitForLine(test: (line: string) => boolean): Promise<string>
  /** Signals the command's whole process group (GNU time ignores SIGINT itself and reports the child). */
  signal(signal: NodeJS.Signals): void
  readonly measured: Promise<Measured>
}

/** Runs `command` under /usr/bin/time in its own process group; `okCodes` are exit codes that count as success. */
export function timedProcess(
  command: string,
  args: readonly string[],
  okCodes: readonly number[] = [0],
): TimedProcess {
  const child = spawn('/usr/bin/time', ['-f', 'BENCH %x %e %U %S %M %R', command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const lines: string[] = []
  const waiters = new Set<{ test: (line: string) => boolean; resolve: (line: string) => void }>()
  let buffered = ''
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop()!
    for (const line of parts) {
      lines.push(line)
      for (const waiter of waiters) {
        if (waiter.test(line)) {
          waiters.delete(waiter)
          waiter.resolve(line)
        }
      }
    }
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const measured = new Promise<Measured>((resolve, reject) => {
    child.once('error', reject)
    // 'close', not 'exit': the exit can be reported before the last of stderr (time's report) is read.
    child.once('close', () => {
      const line = /BENCH (-?\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)/.exec(stderr)
      if (!line || !okCodes.includes(Number(line[1]))) {
        const why = line ? `exited with ${line[1]}` : 'ended without a report from /usr/bin/time'
        reject(new Error(`${command} ${why}:\n${stderr.slice(-2000)}`))
        return
      }
      resolve({
        wallSeconds: Number(line[2]),
        cpuSeconds: Number(line[3]) + Number(line[4]),
        userSeconds: Number(line[3]),
        systemSeconds: Number(line[4]),
        peakRssMiB: Number(line[5]) / 1024,
        minorFaults: Number(line[6]),
      })
    })
  })
  return {
    lines,
    waitForLine: (test) =>
      new Promise((resolve, reject) => {
        const found = lines.find(test)
        if (found !== undefined) resolve(found)
        else waiters.add({ test, resolve })
        measured.then(() => reject(new Error(`${command} exited before printing the expected line`)), reject)
      }),
    signal: (signal) => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, signal)
    },
    measured,
  }
}

/** Runs `command` to completion under /usr/bin/time. */
export function timed(command: string, args: readonly string[]): Promise<Measured> {
  return timedProcess(command, args).measured
}

export async function sha1File(path: string): Promise<string> {
  const hash = createHash('sha1')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

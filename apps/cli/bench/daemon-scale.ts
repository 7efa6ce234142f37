// `pnpm --filter @bt/cli bench:daemon`: `bt daemon` with 1 000 torrents (issue 12's scale targets).
// A state dir of BENCH_TORRENTS single-file torrents of a few KiB (content on disk, so they seed; every
// other one stopped) is built once through @bt/session (kept in BENCH_DIR and reused while its count
// matches), then the daemon runs on it as a real process and is measured from outside:
//   - start-up: spawn → `RPC on …` printed, and → every running torrent `seeding` (torrent-get polled);
//   - one `torrent-get` of every torrent with transmission-remote's `-l` fields (fetch, 409 handshake),
//     cold and warm, and `transmission-remote -l` as a whole process when it is installed;
//   - idle CPU over BENCH_IDLE_S (default 60) seconds: /proc/PID/stat utime+stime before and after;
//   - peak RSS: /proc/PID/status VmHWM at the end;
//   - SIGTERM → exit.
// Numbers are printed beside the targets; nothing is asserted.
//
//   BENCH_TORRENTS=1000 BENCH_IDLE_S=60 pnpm --filter @bt/cli bench:daemon
//
// The daemon runs from sources through tsx (as the tests run it) unless BT_BIN=path/to/bt.js names a
// build (`pnpm --filter @bt/cli... build`, then BT_BIN=dist/bt.js). BT_NODE_FLAGS='--cpu-prof' adds node
// flags; BENCH_DIR (default $TMPDIR/bt-bench-daemon); BENCH_REBUILD=1 rebuilds the state dir.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createTorrent } from '@bt/metainfo'
import { openSession } from '@bt/session'
import { missingTools, runProgram } from '@bt/test-helpers'

const count = Number(process.env.BENCH_TORRENTS ?? 1000)
const idleSeconds = Number(process.env.BENCH_IDLE_S ?? 60)
const root = process.env.BENCH_DIR ?? join(tmpdir(), 'bt-bench-daemon')
const rebuild = process.env.BENCH_REBUILD === '1'
const btBin = process.env.BT_BIN ? resolve(process.env.BT_BIN) : undefined
const nodeFlags = process.env.BT_NODE_FLAGS?.split(' ').filter(Boolean) ?? []
const cliRoot = fileURLToPath(new URL('..', import.meta.url))
const repoRoot = join(cliRoot, '..', '..')
const stateDir = join(root, 'state')
const dataDir = join(root, 'data')
const PAYLOAD_BYTES = 4 * 1024 + 100

/** The fields transmission-remote 3.00 asks for with `-l`. */
const LIST_FIELDS = [
  'error',
  'errorString',
  'eta',
  'id',
  'isFinished',
  'leftUntilDone',
  'name',
  'peersGettingFromUs',
  'peersSendingToUs',
  'rateDownload',
  'rateUpload',
  'sizeWhenDone',
  'status',
  'uploadRatio',
]
/** Transmission's status of a seeding torrent. */
const TR_STATUS_SEED = 6

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))
const hasTransmissionRemote = missingTools(['transmission-remote']).length === 0

/** The state dir of `count` torrents, half stopped, every running one verified and seeding once. */
async function buildStateDir(): Promise<void> {
  const marker = join(root, `built-${count}`)
  const records = await readdir(join(stateDir, 'torrents')).catch(() => [] as string[])
  const built = await readFile(marker, 'utf8').catch(() => undefined)
  if (!rebuild && built !== undefined && records.filter((name) => name.endsWith('.json')).length === count) {
    console.log(`state dir: reusing ${stateDir} (${count} torrents; BENCH_REBUILD=1 rebuilds it)`)
    return
  }
  await rm(root, { recursive: true, force: true })
  await mkdir(dataDir, { recursive: true })
  const started = performance.now()
  const torrents: Uint8Array[] = []
  for (let index = 0; index < count; index++) {
    const path = join(dataDir, `t-${String(index + 1).padStart(5, '0')}.bin`)
    await writeFile(path, randomBytes(PAYLOAD_BYTES))
    torrents.push((await createTorrent(path, { pieceLength: 16 * 1024 })).torrent)
  }
  const session = await openSession({ stateDir, downloadDir: dataDir, host: '127.0.0.1' })
  try {
    for (const [index, torrent] of torrents.entries())
      await session.add({ torrent }, { paused: index % 2 === 1 })
    // Every running torrent checked and seeding, so its resume data is written before the close.
    const deadline = Date.now() + 300_000
    while (session.torrents().some((t) => t.status !== 'seeding' && t.status !== 'stopped')) {
      if (Date.now() > deadline) throw new Error('the state dir’s torrents did not all come to seed')
      await sleep(200)
    }
  } finally {
    await session.close()
  }
  await writeFile(marker, `${new Date().toISOString()}\n`)
  console.log(`state dir: built ${stateDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

/** Ticks of CPU (user + system) the process has used, from /proc/PID/stat. */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

async function statusKiB(pid: number, key: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)
  if (!match) throw new Error(`no ${key} in /proc/${pid}/status`)
  return Number(match[1])
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** torrent-get's answer, as far as the bench reads it. */
interface RpcAnswer {
  result: string
  arguments: { torrents?: { status?: number }[] }
}

/** Transmission RPC over fetch, with the session-id handshake (HTTP 409 hands out the id). */
function rpcClient(url: string) {
  let sessionId = ''
  return async function call(method: string, args: object): Promise<RpcAnswer> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-transmission-session-id': sessionId },
        body: JSON.stringify({ method, arguments: args }),
        signal: AbortSignal.timeout(30_000),
      })
      if (response.status === 409) {
        sessionId = response.headers.get('x-transmission-session-id') ?? ''
        await response.arrayBuffer()
        continue
      }
      if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`)
      return (await response.json()) as RpcAnswer
    }
    throw new Error(`${method}: no session id after the 409`)
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

await buildStateDir()

const tsxLoader = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('tsx')).href
const entry = btBin
  ? [...nodeFlags, btBin]
  : [...nodeFlags, '--conditions=@bt/source', '--import', tsxLoader, join(cliRoot, 'src', 'bt.ts')]
const daemonArgs = [
  ...['daemon', '--state-dir', stateDir, '--download-dir', dataDir],
  ...['--rpc-port', '0', '--port', '0', '--no-dht'],
]
const spawnedAt = performance.now()
const daemon = spawn(process.execPath, [...entry, ...daemonArgs], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
})
const pid = daemon.pid!
let stderr = ''
daemon.stderr.setEncoding('utf8').on('data', (chunk: string) => {
  stderr = (stderr + chunk).slice(-20_000)
})
const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((done) =>
  daemon.once('close', (code, signal) => done({ code, signal, at: performance.now() })),
)

try {
  const url = await new Promise<string>((found, fail) => {
    let stdout = ''
    daemon.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const match = /RPC on (http:\/\/\S+)/.exec(stdout)
      if (match) found(match[1]!)
    })
    void exited.then(() => fail(new Error(`bt daemon exited before listening:\n${stderr}`)))
    setTimeout(() => fail(new Error(`no RPC line within 60 s:\n${stderr}`)), 60_000).unref()
  })
  const rpcAt = performance.now()
  const call = rpcClient(url)

  // Every running torrent back to seeding (polled: the time includes a few polls' own cost).
  const running = Math.ceil(count / 2)
  let seedingAt = Number.NaN
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
    const list = (await call('torrent-get', { fields: ['id', 'status'] })).arguments.torrents ?? []
    if (list.filter((t) => t.status === TR_STATUS_SEED).length >= running) {
      seedingAt = performance.now()
      break
    }
    await sleep(100)
  }

  // One torrent-get of every torrent with -l's fields: the first after start-up, then warm ones.
  const getAll = async () => {
    const started = performance.now()
    const answer = await call('torrent-get', { fields: LIST_FIELDS })
    const ms = performance.now() - started
    const got = answer.arguments.torrents?.length
    if (answer.result !== 'success' || got !== count)
      throw new Error(`torrent-get: ${answer.result}, ${got} torrents`)
    return ms
  }
  const firstGetMs = await getAll()
  const warm: number[] = []
  for (let run = 0; run < 20; run++) warm.push(await getAll())
  const body = JSON.stringify((await call('torrent-get', { fields: LIST_FIELDS })).arguments)

  let remoteMs: number | undefined
  if (hasTransmissionRemote) {
    const port = new URL(url).port
    const times: number[] = []
    for (let run = 0; run < 5; run++) {
      const started = performance.now()
      const result = await runProgram('transmission-remote', [`127.0.0.1:${port}`, '-l'], 30_000)
      times.push(performance.now() - started)
      const lines = result.stdout
        .toString('utf8')
        .split('\n')
        .filter((line) => /^\s+\d+/.test(line))
      if (result.code !== 0 || lines.length !== count)
        throw new Error(`transmission-remote -l: exit ${result.code}, ${lines.length} rows`)
    }
    remoteMs = median(times)
  }

  // Idle: nothing asks the daemon anything for idleSeconds.
  await sleep(2000)
  const ticksBefore = await cpuTicks(pid)
  const idleFrom = performance.now()
  await sleep(idleSeconds * 1000)
  const ticksAfter = await cpuTicks(pid)
  const idleCpuPercent =
    ((ticksAfter - ticksBefore) / clockTicks / ((performance.now() - idleFrom) / 1000)) * 100
  const peakRssMiB = (await statusKiB(pid, 'VmHWM')) / 1024
  const rssMiB = (await statusKiB(pid, 'VmRSS')) / 1024
  const cpuTotalSeconds = ticksAfter / clockTicks

  const stopFrom = performance.now()
  daemon.kill('SIGTERM')
  const exit = await Promise.race([exited, sleep(15_000).then(() => undefined)])
  const stopSeconds = exit ? (exit.at - stopFrom) / 1000 : Number.NaN

  const startupS = (rpcAt - spawnedAt) / 1000
  const seedingS = (seedingAt - spawnedAt) / 1000
  const rows: [string, string, string, boolean | undefined][] = [
    ['start-up: spawn → "RPC on …"', `${startupS.toFixed(2)} s`, '≤ 5 s', startupS <= 5],
    [`start-up: spawn → ${running} seeding`, `${seedingS.toFixed(2)} s`, '', undefined],
    ['torrent-get, -l fields, first', `${firstGetMs.toFixed(1)} ms`, '≤ 100 ms', firstGetMs <= 100],
    [
      'torrent-get, -l fields, warm (median)',
      `${median(warm).toFixed(1)} ms`,
      '≤ 100 ms',
      median(warm) <= 100,
    ],
    ['torrent-get, -l fields, warm (max)', `${Math.max(...warm).toFixed(1)} ms`, '', undefined],
    ['torrent-get response', `${(body.length / 1024).toFixed(0)} KiB`, '', undefined],
    [
      'transmission-remote -l (process, median)',
      remoteMs === undefined ? 'not installed' : `${remoteMs.toFixed(0)} ms`,
      '',
      undefined,
    ],
    [
      `idle CPU over ${idleSeconds} s`,
      `${idleCpuPercent.toFixed(2)} % of a core`,
      '≤ 2 %',
      idleCpuPercent <= 2,
    ],
    ['CPU since spawn (incl. idle)', `${cpuTotalSeconds.toFixed(2)} s`, '', undefined],
    ['peak RSS (VmHWM)', `${peakRssMiB.toFixed(0)} MiB`, '≤ 300 MB', peakRssMiB * 1.048576 <= 300],
    ['RSS after idle (VmRSS)', `${rssMiB.toFixed(0)} MiB`, '', undefined],
    [
      'SIGTERM → exit',
      exit ? `${stopSeconds.toFixed(2)} s, code ${exit.code ?? exit.signal}` : 'no exit in 15 s',
      '≤ 10 s, 0',
      exit !== undefined && exit.code === 0 && stopSeconds <= 10,
    ],
  ]
  console.log(
    `\nbt daemon, ${count} torrents (${PAYLOAD_BYTES} B each, ${running} seeding, ${count - running} stopped), ` +
      `${btBin ? `node ${btBin}` : 'from sources (tsx)'}, node ${process.version}`,
  )
  const width = Math.max(...rows.map(([name]) => name.length)) + 2
  console.log(`${'measure'.padEnd(width)}${'measured'.padEnd(24)}${'target'.padEnd(12)}`)
  for (const [name, value, target, ok] of rows) {
    const verdict = ok === undefined ? '' : ok ? 'ok' : 'MISSED'
    console.log(`${name.padEnd(width)}${value.padEnd(24)}${target.padEnd(12)}${verdict}`)
  }
} finally {
  if (daemon.exitCode === null && daemon.signalCode === null) {
    daemon.kill('SIGTERM')
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

// `pnpm bench` for the download path (DESIGN §5, issue "download from real swarms"): a loopback swarm
// of bittorrent-tracker + one libtorrent seeder with a 1 GiB random file in 1 MiB pieces; the same
// torrent is then downloaded by `bt download`, by libtorrent's own leecher and by aria2c, one after
// another, each timed with /usr/bin/time (wall, CPU, peak RSS of that process alone).
//
//   BENCH_SIZE_MIB=1024 BENCH_RUNS=1 BENCH_LEECHERS=bt,libtorrent,aria2c pnpm --filter @bt/cli bench
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTorrent } from '@bt/metainfo'
import { missingTools, startBittorrentTracker, startLibtorrentSeeder } from '@bt/test-helpers'

const sizeMiB = Number(process.env.BENCH_SIZE_MIB ?? 1024)
const runs = Number(process.env.BENCH_RUNS ?? 1)
const root = join(tmpdir(), 'bt-bench-download')
const seedDir = join(root, 'seed')
const payload = join(seedDir, 'payload.bin')
const bt = fileURLToPath(new URL('../dist/bt.js', import.meta.url))
const ltScript = fileURLToPath(new URL('../../../tooling/test-helpers/scripts/lt_seed.py', import.meta.url))

interface Measured {
  wallSeconds: number
  cpuSeconds: number
  peakRssMiB: number
}

async function ensurePayload(): Promise<void> {
  const bytes = sizeMiB * 1024 * 1024
  if ((await stat(payload).catch(() => undefined))?.size === bytes) return
  await mkdir(seedDir, { recursive: true })
  const chunk = 16 * 1024 * 1024
  const parts: Buffer[] = []
  for (let written = 0; written < bytes; written += chunk)
    parts.push(randomBytes(Math.min(chunk, bytes - written)))
  await writeFile(payload, Buffer.concat(parts))
}

/** Runs `command` under /usr/bin/time and returns what it measured. */
function timed(command: string, args: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'BENCH %e %U %S %M', command, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      const line = /BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr)
      if (code !== 0 || !line) {
        reject(new Error(`${command} failed (${code}):\n${stderr.slice(-2000)}`))
        return
      }
      resolve({
        wallSeconds: Number(line[1]),
        cpuSeconds: Number(line[2]) + Number(line[3]),
        peakRssMiB: Number(line[4]) / 1024,
      })
    })
  })
}

async function sha1File(path: string): Promise<string> {
  const hash = createHash('sha1')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

const missing = missingTools(['py:libtorrent', 'aria2c', 'time'])
if (missing.length > 0) {
  console.error(`bench: needs ${missing.join(', ')} (installed by .ci/run)`)
  process.exit(1)
}

await ensurePayload()
const expected = await sha1File(payload)
const tracker = await startBittorrentTracker()
const torrentPath = join(root, 'payload.torrent')
const created = await createTorrent(payload, { pieceLength: 1024 * 1024, announce: [tracker.httpUrl] })
await writeFile(torrentPath, created.torrent)
const seeder = await startLibtorrentSeeder({ torrentPath, savePath: seedDir, timeoutMs: 300_000 })

const allLeechers: Record<string, (out: string) => Promise<Measured>> = {
  bt: (out) =>
    timed(process.execPath, [
      ...(process.env.BT_NODE_FLAGS?.split(' ') ?? []),
      bt,
      'download',
      torrentPath,
      '-d',
      out,
      '-q',
    ]),
  libtorrent: (out) =>
    timed('/usr/bin/python3', [ltScript, 'leech', '--torrent', torrentPath, '--save-path', out]),
  aria2c: (out) =>
    timed('aria2c', [
      `--dir=${out}`,
      '--seed-time=0',
      '--enable-dht=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      '--file-allocation=none',
      '--console-log-level=error',
      '--summary-interval=0',
      torrentPath,
    ]),
}

const chosen = (process.env.BENCH_LEECHERS ?? 'bt,libtorrent,aria2c').split(',')
const leechers = Object.fromEntries(Object.entries(allLeechers).filter(([name]) => chosen.includes(name)))
const results = new Map<string, Measured[]>(Object.keys(leechers).map((name) => [name, []]))
try {
  for (let run = 0; run < runs; run++) {
    for (const [name, leech] of Object.entries(leechers)) {
      const out = join(root, `out-${name}`)
      await rm(out, { recursive: true, force: true })
      await mkdir(out, { recursive: true })
      const measured = await leech(out)
      if ((await sha1File(join(out, 'payload.bin'))) !== expected)
        throw new Error(`${name}: downloaded data differs`)
      results.get(name)!.push(measured)
      await rm(out, { recursive: true, force: true })
    }
  }
} finally {
  await seeder.stop()
  await tracker.close()
}

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const mb = (sizeMiB * 1024 * 1024) / 1e6
const rows = [...results].map(([name, list]) => {
  const wall = median(list.map((m) => m.wallSeconds))
  return {
    name,
    mbps: mb / wall,
    cpu: median(list.map((m) => m.cpuSeconds)),
    rss: median(list.map((m) => m.peakRssMiB)),
  }
})
const reference = rows.find((row) => row.name === 'libtorrent')?.mbps ?? Number.NaN
console.log(
  `\n${sizeMiB} MiB, 1 MiB pieces, one libtorrent seeder on loopback; median of ${runs} run(s), verified`,
)
console.log('leecher        wall MB/s   CPU s   peak RSS MiB   vs libtorrent')
for (const row of rows) {
  console.log(
    `${row.name.padEnd(14)}${row.mbps.toFixed(0).padStart(9)}${row.cpu.toFixed(2).padStart(8)}${row.rss.toFixed(0).padStart(15)}${(row.mbps / reference).toFixed(2).padStart(14)}x`,
  )
}

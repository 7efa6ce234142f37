import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTorrent } from '@bt/metainfo'
import { missingTools, startBittorrentTracker, startLibtorrentSeeder } from '@bt/test-helpers'
import { ensurePayload, type Measured, sha1File, timed } from './bench-helpers.js'

const sizeMiB = Number(process.env.BENCH_SIZE_MIB ?? 1024)
const runs = Number(process.env.BENCH_RUNS ?? 1)
const pieceKiB = Number(process.env.BENCH_PIECE_KIB ?? 1024)
const root = join(tmpdir(), 'bt-bench-download')
const seedDir = join(root, 'seed')
const payload = join(seedDir, 'payload.bin')
const bt = fileURLToPath(new URL('../dist/bt.js', import.meta.url))
const ltScript = fileURLToPath(new URL('../../../tooling/test-helpers/scripts/lt_seed.py', import.meta.url))

const missing = missingTools(['py:libtorrent', 'aria2c', 'time'])
if (missing.length > 0) {
  console.error(`bench: needs ${missing.join(', ')} (installed by .ci/run)`)
  process.exit(1)
}

await ensurePayload(payload, sizeMiB * 1024 * 1024)
const expected = await sha1File(payload)
const tracker = await startBittorrentTracker()
const torrentPath = join(root, 'payload.torrent')
const created = await createTorrent(payload, { pieceLength: pieceKiB * 1024, announce: [tracker.httpUrl] })
await writeFile(torrentPath, created.torrent)
const seeder = await startLibtorrentSeeder({ torrentPath, savePath: seedDir, timeoutMs: 300_000 })

const wrapper = process.env.BT_WRAPPER?.split(' ').filter(Boolean) ?? []
const allLeechers: Record<string, (out: string) => Promise<Measured>> = {
  // BT_WRAPPER runs bt under another program (e.g. "perf record -g -o /tmp/bt.perf --"), BT_NODE_FLAGS
  // passes Node flags (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  bt: (out) =>
    timed(wrapper[0] ?? process.execPath, [
      ...wrapper.slice(1),
      ...(wrapper.length > 0 ? [process.execPath] : []),
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
// In the order given: what ran just before a leecher changes its system time on this VM.
const leechers = Object.fromEntries(
  chosen.flatMap((name) => (allLeechers[name] ? [[name, allLeechers[name]] as const] : [])),
)
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
      // Every run, so a slow first one shows rather than hides in the median.
      console.log(
        `run ${run + 1} ${name.padEnd(11)} ${((sizeMiB * 1024 * 1024) / 1e6 / measured.wallSeconds).toFixed(0).padStart(4)} MB/s  user ${measured.userSeconds.toFixed(2)} s  sys ${measured.systemSeconds.toFixed(2)} s  RSS ${measured.peakRssMiB.toFixed(0)} MiB  minor faults ${measured.minorFaults}`,
      )
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
    user: median(list.map((m) => m.userSeconds)),
    sys: median(list.map((m) => m.systemSeconds)),
    faults: median(list.map((m) => m.minorFaults)),
    rss: median(list.map((m) => m.peakRssMiB)),
  }
})
const reference = rows.find((row) => row.name === 'libtorrent')?.mbps ?? Number.NaN
console.log(
  `\n${sizeMiB} MiB, ${pieceKiB} KiB pieces, one libtorrent seeder on loopback; median of ${runs} run(s), verified`,
)
console.log('leecher        wall MB/s   CPU s  (user   sys)  minor faults  peak RSS MiB   vs libtorrent')
for (const row of rows) {
  console.log(
    `${row.name.padEnd(14)}${row.mbps.toFixed(0).padStart(9)}${row.cpu.toFixed(2).padStart(8)}${row.user.toFixed(2).padStart(7)}${row.sys.toFixed(2).padStart(6)}${String(row.faults).padStart(14)}${row.rss.toFixed(0).padStart(15)}${(row.mbps / reference).toFixed(2).padStart(14)}x`,
  )
}

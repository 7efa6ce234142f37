// `pnpm --filter @bt/cli bench:seed`: the upload path. libtorrent's leecher downloads a 1 GiB torrent
// (1 MiB pieces) from `bt seed` and, in the same run, from a libtorrent seeder; /usr/bin/time measures
// each seeder process (CPU seconds, peak RSS). Then 20 `bt download` leechers at once from one `bt seed`
// (a smaller payload): all must finish, verified.
//
//   BENCH_SIZE_MIB=1024 BENCH_SWARM_MIB=64 BENCH_SWARM_LEECHERS=20 pnpm --filter @bt/cli bench:seed
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTorrent } from '@bt/metainfo'
import { missingTools } from '@bt/test-helpers'
import { ensurePayload, type Measured, sha1File, timed, timedProcess } from './bench-helpers.js'

const sizeMiB = Number(process.env.BENCH_SIZE_MIB ?? 1024)
const swarmMiB = Number(process.env.BENCH_SWARM_MIB ?? 64)
const swarmLeechers = Number(process.env.BENCH_SWARM_LEECHERS ?? 20)
const root = join(tmpdir(), 'bt-bench-seed')
const bt = fileURLToPath(new URL('../dist/bt.js', import.meta.url))
const ltScript = fileURLToPath(new URL('../../../tooling/test-helpers/scripts/lt_seed.py', import.meta.url))

const missing = missingTools(['py:libtorrent', 'time'])
if (missing.length > 0) {
  console.error(`bench: needs ${missing.join(', ')} (installed by .ci/run)`)
  process.exit(1)
}

/** A payload of `mib` MiB in its own folder, and its torrent (no trackers: leechers dial the seeder). */
async function prepare(label: string, mib: number) {
  const seedDir = join(root, label)
  const payload = join(seedDir, 'payload.bin')
  await ensurePayload(payload, mib * 1024 * 1024)
  const torrentPath = join(root, `${label}.torrent`)
  const created = await createTorrent(payload, { pieceLength: 1024 * 1024 })
  await writeFile(torrentPath, created.torrent)
  return { seedDir, payload, torrentPath, expected: await sha1File(payload), bytes: mib * 1024 * 1024 }
}

interface SeederRun {
  leechSeconds: number
  seeder: Measured
}

/** Starts a seeder (reporting its port), lets libtorrent leech everything, stops the seeder. */
async function seedTo(
  data: Awaited<ReturnType<typeof prepare>>,
  start: () => { process: ReturnType<typeof timedProcess>; port: Promise<number> },
): Promise<SeederRun> {
  const { process: seeder, port } = start()
  const out = join(root, 'out-lt')
  await rm(out, { recursive: true, force: true })
  try {
    const leech = timedProcess('/usr/bin/python3', [
      ltScript,
      'leech',
      '--torrent',
      data.torrentPath,
      '--save-path',
      out,
      '--peer',
      `127.0.0.1:${await port}`,
    ])
    const done = await leech.waitForLine((line) => line.includes('"done"'))
    await leech.measured
    if ((await sha1File(join(out, 'payload.bin'))) !== data.expected)
      throw new Error('downloaded data differs')
    return { leechSeconds: Number(JSON.parse(done).seconds), seeder: await stopAndMeasure(seeder) }
  } finally {
    seeder.signal('SIGINT')
    await rm(out, { recursive: true, force: true })
  }
}

async function stopAndMeasure(seeder: ReturnType<typeof timedProcess>): Promise<Measured> {
  seeder.signal('SIGINT')
  return await seeder.measured
}

function btSeed(data: Awaited<ReturnType<typeof prepare>>) {
  const process = timedProcess(
    globalThis.process.execPath,
    [
      bt,
      'seed',
      data.torrentPath,
      data.seedDir,
      '--host',
      '127.0.0.1',
      '--json',
      '--max-peers',
      '100',
      '--upload-slots',
      '32',
    ],
    [130],
  )
  const port = process
    .waitForLine((line) => line.includes('"seeding"'))
    .then((line) => Number(JSON.parse(line).port))
  return { process, port }
}

function libtorrentSeed(data: Awaited<ReturnType<typeof prepare>>) {
  const process = timedProcess(
    '/usr/bin/python3',
    [ltScript, 'seed', '--torrent', data.torrentPath, '--save-path', data.seedDir, '--timeout', '300'],
    [0, -1, 130, 143],
  )
  const port = process
    .waitForLine((line) => line.includes('"ready"'))
    .then((line) => Number(JSON.parse(line).port))
  return { process, port }
}

const big = await prepare('big', sizeMiB)
const results: [string, SeederRun][] = [
  ['bt seed', await seedTo(big, () => btSeed(big))],
  ['libtorrent', await seedTo(big, () => libtorrentSeed(big))],
]
const mb = big.bytes / 1e6
const reference = results[1]![1].leechSeconds
console.log(`\n${sizeMiB} MiB, 1 MiB pieces, libtorrent 2.0.8 leecher on loopback, verified`)
console.log('seeder        leecher MB/s   seeder CPU s   seeder peak RSS MiB   vs libtorrent')
for (const [name, run] of results) {
  console.log(
    `${name.padEnd(14)}${(mb / run.leechSeconds).toFixed(0).padStart(12)}${run.seeder.cpuSeconds.toFixed(2).padStart(15)}${run.seeder.peakRssMiB.toFixed(0).padStart(22)}${(reference / run.leechSeconds).toFixed(2).padStart(15)}x`,
  )
}

// Many leechers at once from one `bt seed`.
const small = await prepare('swarm', swarmMiB)
const { process: seeder, port } = btSeed(small)
const seederPort = await port
const started = Date.now()
let failure: unknown
try {
  await Promise.all(
    Array.from({ length: swarmLeechers }, async (_, index) => {
      const out = join(root, `out-${index}`)
      await rm(out, { recursive: true, force: true })
      await mkdir(out, { recursive: true })
      await timed(process.execPath, [
        bt,
        'download',
        small.torrentPath,
        '-d',
        out,
        '-q',
        '--peer',
        `127.0.0.1:${seederPort}`,
      ])
      if ((await sha1File(join(out, 'payload.bin'))) !== small.expected)
        throw new Error(`leecher ${index}: data differs`)
      await rm(out, { recursive: true, force: true })
    }),
  )
} catch (error) {
  failure = error
}
const seconds = (Date.now() - started) / 1000
const measured = await stopAndMeasure(seeder).catch(() => undefined)
if (failure !== undefined) {
  console.error(`\n${swarmLeechers} bt leechers at once: FAILED after ${seconds.toFixed(1)} s`)
  throw failure
}
console.log(
  `\n${swarmLeechers} bt leechers at once, ${swarmMiB} MiB each from one bt seed: all finished and verified in ${seconds.toFixed(1)} s ` +
    `(${((swarmLeechers * small.bytes) / 1e6 / seconds).toFixed(0)} MB/s served; seeder peak RSS ${measured?.peakRssMiB.toFixed(0)} MiB)`,
)

// `pnpm --filter @bt/cli bench:seed`: the upload path. libtorrent's leecher downloads a 1 GiB torrent
// (1 MiB pieces) from `bt seed` and, in the same run, from a libtorrent seeder; /usr/bin/time measures
// each seeder process (CPU seconds, peak RSS). Then 20 `bt download` leechers at once from one `bt seed`
// (a smaller payload): all must finish, verified.
//
//   BENCH_SIZE_MIB=1024 BENCH_SWARM_MIB=64 BENCH_SWARM_LEECHERS=20 pnpm --filter @bt/cli bench:seed
//
// Both seeders verify the payload when they start (libtorrent has no resume data; bt's resume files are
// deleted before each run), so their CPU seconds and peak RSS include that check; BENCH_RECHECK=0 lets
// `bt seed` trust its resume data instead.
//
// While iterating: BENCH_PARTS=big or swarm (default both), BENCH_SEEDERS=bt or libtorrent (default both),
// BENCH_RUNS=3 (median of the big part, the seeders interleaved), BT_BIN=path/to/bt.js (default dist/bt.js),
// BT_NODE_FLAGS='--cpu-prof' (node flags for the bt processes), BENCH_DIR (default $TMPDIR/bt-bench-seed),
// BENCH_SWARM_TIMEOUT_S=180 (a swarm leecher still running then is stopped and counts as failed).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTorrent } from '@bt/metainfo'
import { missingTools } from '@bt/test-helpers'
import { ensurePayload, type Measured, sha1File, timedProcess } from './bench-helpers.js'

const sizeMiB = Number(process.env.BENCH_SIZE_MIB ?? 1024)
const swarmMiB = Number(process.env.BENCH_SWARM_MIB ?? 64)
const swarmLeechers = Number(process.env.BENCH_SWARM_LEECHERS ?? 20)
const swarmTimeoutSeconds = Number(process.env.BENCH_SWARM_TIMEOUT_S ?? 180)
const parts = (process.env.BENCH_PARTS ?? 'big,swarm').split(',')
const seeders = (process.env.BENCH_SEEDERS ?? 'bt,libtorrent').split(',')
const runs = Number(process.env.BENCH_RUNS ?? 1)
const recheck = process.env.BENCH_RECHECK !== '0'
const root = process.env.BENCH_DIR ?? join(tmpdir(), 'bt-bench-seed')
const bt = process.env.BT_BIN ?? fileURLToPath(new URL('../dist/bt.js', import.meta.url))
const nodeFlags = process.env.BT_NODE_FLAGS?.split(' ').filter(Boolean) ?? []
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
  /** The libtorrent leecher's own CPU seconds: a seeder that makes it work harder slows it down. */
  leecherCpuSeconds: number
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
    const leecher = await leech.measured
    if ((await sha1File(join(out, 'payload.bin'))) !== data.expected)
      throw new Error('downloaded data differs')
    return {
      leechSeconds: Number(JSON.parse(done).seconds),
      leecherCpuSeconds: leecher.cpuSeconds,
      seeder: await stopAndMeasure(seeder),
    }
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
      ...nodeFlags,
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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

if (parts.includes('big')) {
  const big = await prepare('big', sizeMiB)
  const starters: Record<string, () => ReturnType<typeof btSeed>> = {
    'bt seed': () => btSeed(big),
    libtorrent: () => libtorrentSeed(big),
  }
  const chosen = Object.entries(starters).filter(([name]) =>
    seeders.includes(name === 'bt seed' ? 'bt' : name),
  )
  const results = new Map<string, SeederRun[]>(chosen.map(([name]) => [name, []]))
  // Interleaved, so both seeders meet the same background load.
  for (let run = 0; run < runs; run++) {
    for (const [name, start] of chosen) {
      if (name === 'bt seed' && recheck) await removeResumeData(big.seedDir)
      const result = await seedTo(big, start)
      results.get(name)!.push(result)
      if (runs > 1)
        console.log(
          `run ${run + 1} ${name}: ${(big.bytes / 1e6 / result.leechSeconds).toFixed(0)} MB/s, ` +
            `${result.seeder.cpuSeconds.toFixed(2)} CPU s, ${result.seeder.peakRssMiB.toFixed(0)} MiB ` +
            `(leecher ${result.leecherCpuSeconds.toFixed(2)} CPU s)`,
        )
    }
  }
  const mb = big.bytes / 1e6
  // Each run's pair ran back to back: compare within pairs, then take the median, which cancels most of
  // the background load a shared machine adds to one run and not another.
  const reference = results.get('libtorrent')
  const versus = (list: SeederRun[]) =>
    reference === undefined
      ? undefined
      : median(list.map((run, at) => reference[at]!.leechSeconds / run.leechSeconds))
  console.log(
    `\n${sizeMiB} MiB, 1 MiB pieces, libtorrent 2.0.8 leecher on loopback, verified${runs > 1 ? `, medians of ${runs} runs (vs libtorrent: of the per-run ratios)` : ''}`,
  )
  console.log(
    'seeder        leecher MB/s   seeder CPU s   seeder peak RSS MiB   leecher CPU s   vs libtorrent',
  )
  for (const [name, list] of results) {
    const seconds = median(list.map((r) => r.leechSeconds))
    const cpu = median(list.map((r) => r.seeder.cpuSeconds))
    const rss = median(list.map((r) => r.seeder.peakRssMiB))
    const leecherCpu = median(list.map((r) => r.leecherCpuSeconds))
    const paired = versus(list)
    const ratio = paired === undefined ? '' : `${paired.toFixed(2).padStart(15)}x`
    console.log(
      `${name.padEnd(14)}${(mb / seconds).toFixed(0).padStart(12)}${cpu.toFixed(2).padStart(15)}${rss.toFixed(0).padStart(22)}${leecherCpu.toFixed(2).padStart(16)}${ratio}`,
    )
  }
}

/** bt's resume files next to the payload: without them `bt seed` re-hashes everything at start. */
async function removeResumeData(seedDir: string): Promise<void> {
  for (const name of await readdir(seedDir))
    if (name.endsWith('.bt-resume')) await rm(join(seedDir, name), { force: true })
}

// Many leechers at once from one `bt seed`. Each leecher reports JSON events, so a failure shows its
// warnings (bans, hash failures, disconnects) and the seeder's, not just an exit code; a leecher stuck
// without peers is stopped after BENCH_SWARM_TIMEOUT_S and counts as failed.
if (parts.includes('swarm')) {
  const small = await prepare('swarm', swarmMiB)
  const { process: seeder, port } = btSeed(small)
  const seederPort = await port
  const started = Date.now()
  const results = await Promise.allSettled(
    Array.from({ length: swarmLeechers }, async (_, index) => {
      const out = join(root, `out-${index}`)
      await rm(out, { recursive: true, force: true })
      await mkdir(out, { recursive: true })
      const leecher = timedProcess(process.execPath, [
        ...nodeFlags,
        bt,
        'download',
        small.torrentPath,
        '-d',
        out,
        '--json',
        '--peer',
        `127.0.0.1:${seederPort}`,
      ])
      const timer = setTimeout(() => leecher.signal('SIGINT'), swarmTimeoutSeconds * 1000)
      try {
        await leecher.measured
      } catch (error) {
        const warnings = leecher.lines.filter((line) => line.includes('"warning"')).slice(-5)
        const reason =
          error instanceof Error
            ? error.message
                .split('\n')
                .filter((line) => line.trim() !== '' && !line.includes('MaxListenersExceededWarning'))
                .slice(-6)
                .join('\n    ')
            : error
        throw new Error(`leecher ${index}: ${reason}\n    ${warnings.join('\n    ')}`)
      } finally {
        clearTimeout(timer)
      }
      if ((await sha1File(join(out, 'payload.bin'))) !== small.expected)
        throw new Error(`leecher ${index}: data differs`)
      await rm(out, { recursive: true, force: true })
    }),
  )
  const seconds = (Date.now() - started) / 1000
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
  const seederWarnings = seeder.lines.filter((line) => line.includes('"warning"'))
  const measured = await stopAndMeasure(seeder).catch(() => undefined)
  if (failures.length > 0) {
    console.error(
      `\n${swarmLeechers} bt leechers at once: ${failures.length} FAILED after ${seconds.toFixed(1)} s`,
    )
    for (const failure of failures) console.error(`  ${failure instanceof Error ? failure.message : failure}`)
    console.error(`  seeder warnings (last 10 of ${seederWarnings.length}):`)
    for (const line of seederWarnings.slice(-10)) console.error(`    ${line}`)
    process.exit(1)
  }
  console.log(
    `\n${swarmLeechers} bt leechers at once, ${swarmMiB} MiB each from one bt seed: all finished and verified in ${seconds.toFixed(1)} s ` +
      `(${((swarmLeechers * small.bytes) / 1e6 / seconds).toFixed(0)} MB/s served; seeder ${measured?.cpuSeconds.toFixed(2)} CPU s, peak RSS ${measured?.peakRssMiB.toFixed(0)} MiB)`,
  )
}

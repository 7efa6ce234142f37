// `pnpm --filter @bt/cli bench:stream`: how fast a seek is served while streaming. A libtorrent seeder
// limited to BENCH_RATE_MIB MiB/s serves a BENCH_SIZE_MIB MiB file (BENCH_PIECE_KIB KiB pieces); a
// reader starts at 0, then seeks to 25 %, 50 %, 75 % and 95 % of the file, each time before those
// pieces were fetched. Printed: the time from each seek to its first byte, next to the time one piece
// takes at the seeder's rate (the target: ≤ 2× that).
//
// BENCH_LINK=tc (root only) shapes a link instead of libtorrent's own limiter, which releases bytes in
// 500 ms steps: the seeder runs in a network namespace of its own behind a veth pair whose egress is
// shaped by `tbf rate <BENCH_RATE_MIB>`, so the seeder itself is unlimited and the wire paces it.
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@bt/client-core'
import { createTorrent, parseTorrent } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import { missingTools, pseudoRandomBytes, startLibtorrentSeeder } from '@bt/test-helpers'

const sizeMiB = Number(process.env.BENCH_SIZE_MIB ?? 64)
const rateMiB = Number(process.env.BENCH_RATE_MIB ?? 4)
const pieceKiB = Number(process.env.BENCH_PIECE_KIB ?? 256)

const missing = missingTools(['py:libtorrent'])
if (missing.length > 0) {
  console.error(`bench: needs ${missing.join(', ')} (installed by .ci/run)`)
  process.exit(1)
}

const shaped = process.env.BENCH_LINK === 'tc'
const NETNS = 'bt-bench-seed'

/** A namespace for the seeder, joined to ours by a veth pair whose seeder side is rate-limited. */
function shapeLink(bytesPerSecond: number): void {
  const run = (...args: string[]) => execFileSync('ip', args, { stdio: 'inherit' })
  unshapeLink()
  run('netns', 'add', NETNS)
  run('link', 'add', 'btbench0', 'type', 'veth', 'peer', 'name', 'btbench1')
  run('link', 'set', 'btbench1', 'netns', NETNS)
  run('addr', 'add', '10.77.0.1/24', 'dev', 'btbench0')
  run('link', 'set', 'btbench0', 'up')
  run('netns', 'exec', NETNS, 'ip', 'addr', 'add', '10.77.0.2/24', 'dev', 'btbench1')
  run('netns', 'exec', NETNS, 'ip', 'link', 'set', 'btbench1', 'up')
  run('netns', 'exec', NETNS, 'ip', 'link', 'set', 'lo', 'up')
  // This VM's kernel has tbf but no netem: the rate is shaped, the round trip stays a veth's.
  const rate = `${Math.round((bytesPerSecond * 8) / 1000)}kbit`
  const tbf = [
    'qdisc',
    'add',
    'dev',
    'btbench1',
    'root',
    'tbf',
    'rate',
    rate,
    'burst',
    '32kb',
    'limit',
    '256kb',
  ]
  execFileSync('ip', ['netns', 'exec', NETNS, 'tc', ...tbf], { stdio: 'inherit' })
}

function unshapeLink(): void {
  for (const args of [
    ['link', 'del', 'btbench0'],
    ['netns', 'del', NETNS],
  ]) {
    try {
      execFileSync('ip', args, { stdio: 'ignore' })
    } catch {}
  }
}

const dir = await mkdtemp(join(tmpdir(), 'bt-bench-stream-'))
const client = createClient()
let stop = async () => {}
try {
  const content = pseudoRandomBytes(sizeMiB * 1024 * 1024, 'bench-stream')
  await mkdir(join(dir, 'seed'))
  await writeFile(join(dir, 'seed', 'movie.bin'), content)
  const created = await createTorrent(join(dir, 'seed', 'movie.bin'), { pieceLength: pieceKiB * 1024 })
  await writeFile(join(dir, 'movie.torrent'), created.torrent)
  const meta = parseTorrent(created.torrent)
  const rate = rateMiB * 1024 * 1024
  if (shaped) shapeLink(rate)
  const seeder = await startLibtorrentSeeder({
    torrentPath: join(dir, 'movie.torrent'),
    savePath: join(dir, 'seed'),
    ...(shaped
      ? { host: '10.77.0.2', netns: NETNS }
      : { host: '127.0.0.2', settings: { upload_rate_limit: rate, ignore_limits_on_local_network: false } }),
  })
  stop = async () => {
    await seeder.stop()
    if (shaped) unshapeLink()
  }
  const torrent = client.add(meta, {
    store: createMemoryStore(meta),
    peers: [{ host: seeder.host, port: seeder.port }],
    announce: false,
  })
  const pieceMs = (meta.pieceLength / rate) * 1000
  const rows: string[] = []
  for (const fraction of [0, 0.25, 0.5, 0.75, 0.95]) {
    const start = Math.floor(content.length * fraction)
    const fetched = torrent.progress().verifiedBytes
    const seekAt = performance.now()
    const controller = new AbortController()
    let firstByteMs = Number.NaN
    let read = 0
    for await (const chunk of torrent.read(0, start, content.length, { signal: controller.signal })) {
      if (read === 0) firstByteMs = performance.now() - seekAt
      read += chunk.length
      // Play a little, as a player does before the next seek.
      if (read >= 2 * meta.pieceLength) break
    }
    controller.abort()
    rows.push(
      `| ${(fraction * 100).toFixed(0)} % | ${firstByteMs.toFixed(0)} ms | ${(firstByteMs / pieceMs).toFixed(2)}× | ${((fetched / content.length) * 100).toFixed(0)} % |`,
    )
  }
  console.log(
    `bt stream seek latency: ${sizeMiB} MiB, ${pieceKiB} KiB pieces, seeder at ${rateMiB} MiB/s ${shaped ? 'over a tbf-shaped veth link' : "(libtorrent's limiter)"} (one piece: ${pieceMs.toFixed(0)} ms)`,
  )
  console.log('| seek to | first byte after | × one piece | downloaded before the seek |')
  console.log('|---|---|---|---|')
  for (const row of rows) console.log(row)
} finally {
  await client.close()
  await stop()
  await rm(dir, { recursive: true, force: true })
}

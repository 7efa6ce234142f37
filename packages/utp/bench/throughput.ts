// uTP throughput on loopback: our uTP to our uTP (sender here, receiver in a child process, so each
// side has its own core and its own CPU count), and a download from a libtorrent seeder over uTP next to
// libtorrent downloading the same torrent from it. Prints MB/s and CPU seconds per GiB per side.
//   pnpm bench                       all scenarios
//   UTP_BENCH_MIB=512 pnpm bench     a bigger transfer (default 256 MiB)
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseTorrent } from '@bt/metainfo'
import { makeTorrentWithLibtorrent, startLibtorrentSeeder, writeContentTree } from '@bt/test-helpers'
import { createUtpSocket, type UtpConnection } from '../src/index.js'
import { downloadAll, startLibtorrentLeecher, UTP_ONLY } from '../test/bittorrent.js'

const SELF = fileURLToPath(import.meta.url)
const MIB = Number(process.env.UTP_BENCH_MIB ?? 256)
const GIB = 1024 ** 3

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6
}

async function receiver(host: string, packetSize: number): Promise<void> {
  const socket = await createUtpSocket({ host, packetSize })
  process.stdout.write(`${JSON.stringify({ port: socket.address().port })}\n`)
  const connection = await new Promise<UtpConnection>((resolve) => socket.once('connection', resolve))
  const cpu = process.cpuUsage()
  let bytes = 0
  connection.on('data', (chunk: Buffer) => {
    bytes += chunk.length
  })
  await new Promise((resolve) => connection.once('end', resolve))
  const used = cpuSeconds(process.cpuUsage(cpu))
  connection.end()
  await new Promise((resolve) => connection.once('close', resolve))
  process.stdout.write(`${JSON.stringify({ bytes, cpu: used })}\n`)
  await socket.close()
}

function lines(child: ReturnType<typeof spawn>): AsyncGenerator<Record<string, number>> {
  let buffered = ''
  const queue: Record<string, number>[] = []
  let wake: (() => void) | undefined
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      queue.push(JSON.parse(buffered.slice(0, i)))
      buffered = buffered.slice(i + 1)
      wake?.()
    }
  })
  return (async function* () {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve))
      yield queue.shift()!
    }
  })()
}

async function ourToOurs(packetSize: number): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--conditions=@bt/source', '--import', 'tsx', SELF, 'receive', '127.0.50.201', `${packetSize}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const events = lines(child)
  const { port } = (await events.next()).value as { port: number }
  const socket = await createUtpSocket({ host: '127.0.50.200', packetSize })
  const connection = await socket.connect(port, '127.0.50.201')
  const chunk = Buffer.alloc(256 * 1024, 7)
  const total = MIB * 1024 * 1024
  const cpu = process.cpuUsage()
  const started = performance.now()
  connection.resume()
  // Both directions may be closed before the receiver's report arrives: listen now.
  const closed = new Promise((resolve) => connection.once('close', resolve))
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!connection.write(chunk)) await new Promise((resolve) => connection.once('drain', resolve))
  }
  connection.end()
  const result = (await events.next()).value as { bytes: number; cpu: number }
  const seconds = (performance.now() - started) / 1000
  const senderCpu = cpuSeconds(process.cpuUsage(cpu))
  const stats = connection.stats()
  await closed
  await socket.close()
  child.kill()
  if (result.bytes !== total) throw new Error(`receiver got ${result.bytes} of ${total} bytes`)
  return row(
    `ours → ours, ${packetSize} B packets`,
    total / seconds / 1e6,
    (senderCpu * GIB) / total,
    (result.cpu * GIB) / total,
    `${stats.retransmits} retransmits, cwnd ${(stats.congestionWindow / 1024).toFixed(0)} KiB`,
  )
}

async function fromLibtorrent(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'utp-bench-'))
  try {
    const length = MIB * 1024 * 1024
    await writeContentTree(join(dir, 'seed'), [{ path: 'bench.bin', length }], 'bench')
    const torrentPath = join(dir, 'bench.torrent')
    await makeTorrentWithLibtorrent({
      contentPath: join(dir, 'seed', 'bench.bin'),
      torrentPath,
      pieceLength: 1 << 20,
    })
    const metainfo = parseTorrent(await readFile(torrentPath))
    const seeder = await startLibtorrentSeeder({
      torrentPath,
      savePath: join(dir, 'seed'),
      host: '127.0.50.210',
      settings: UTP_ONLY,
      timeoutMs: 120_000,
    })
    try {
      const rows: string[] = []
      const socket = await createUtpSocket({ host: '127.0.50.211' })
      const cpu = process.cpuUsage()
      const started = performance.now()
      const stream = await socket.connect(seeder.port, seeder.host)
      const got = await downloadAll(stream, metainfo)
      const seconds = (performance.now() - started) / 1000
      const used = cpuSeconds(process.cpuUsage(cpu))
      await socket.close()
      if (got.verifiedPieces !== metainfo.pieceCount) throw new Error('download incomplete')
      rows.push(
        row(
          'libtorrent seeder → ours (with SHA-1 of every piece)',
          length / seconds / 1e6,
          undefined,
          (used * GIB) / length,
          '',
        ),
      )

      await mkdir(join(dir, 'leech'))
      const leecher = startLibtorrentLeecher({
        torrentPath,
        savePath: join(dir, 'leech'),
        host: '127.0.50.212',
        peer: `${seeder.host}:${seeder.port}`,
        timeoutS: 300,
      })
      const ltSeconds = await leecher.done
      const usage = spawnSync('ps', ['-o', 'times=', '-p', `${leecher.process.child.pid}`], {
        encoding: 'utf8',
      })
      await leecher.process.stop()
      rows.push(
        row(
          'libtorrent seeder → libtorrent leecher (reference)',
          length / ltSeconds / 1e6,
          undefined,
          usage.status === 0 ? (Number(usage.stdout.trim()) * GIB) / length : undefined,
          'leecher CPU includes its start-up and disk writes',
        ),
      )
      return rows
    } finally {
      await seeder.stop()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function row(
  name: string,
  mbps: number,
  senderCpu: number | undefined,
  receiverCpu: number | undefined,
  note: string,
) {
  const f = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(2))
  return `| ${name} | ${mbps.toFixed(0)} | ${f(senderCpu)} | ${f(receiverCpu)} | ${note} |`
}

async function main(): Promise<void> {
  if (process.argv[2] === 'receive') {
    await receiver(process.argv[3]!, Number(process.argv[4]))
    return
  }
  console.log(`uTP throughput, ${MIB} MiB per run, loopback, node ${process.version}`)
  console.log('| scenario | MB/s | sender CPU s/GiB | receiver CPU s/GiB | notes |')
  console.log('|---|---|---|---|---|')
  for (const size of [1400, 8192]) console.log(await ourToOurs(size))
  const lt = spawnSync('/usr/bin/python3', ['-c', 'import libtorrent'], { stdio: 'ignore' })
  if (lt.status !== 0) console.log('| libtorrent | – | – | – | python3-libtorrent not installed |')
  else for (const line of await fromLibtorrent()) console.log(line)
}

await main()

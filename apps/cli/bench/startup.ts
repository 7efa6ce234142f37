// Start-up: from spawning `bt download` to its first block request on the wire, against a seeder of our
// own (peer-wire's acceptPeer) on loopback that has every piece and unchokes at once. Target (issue #14):
// ≤ 150 ms. Dials plain TCP (`--encryption allow --no-utp`), so the time is the client's, not an MSE
// round trip or uTP's head start (250 ms before TCP is tried too, against a peer that has no uTP).
import { spawn } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTorrent, parseTorrent } from '@bt/metainfo'
import { acceptPeer } from '@bt/peer-wire'
import { ensurePayload } from './bench-helpers.js'

const runs = Number(process.env.BENCH_RUNS ?? 7)
const bt = fileURLToPath(new URL('../dist/bt.js', import.meta.url))
const root = join(tmpdir(), 'bt-bench-startup')
await mkdir(root, { recursive: true })
const payload = join(root, 'startup.bin')
await ensurePayload(payload, 4 * 1024 * 1024)
const torrentPath = join(root, 'startup.torrent')
const { torrent } = await createTorrent(payload, { pieceLength: 256 * 1024 })
await writeFile(torrentPath, torrent)
const meta = parseTorrent(torrent)

/** One run: milliseconds from spawn to the TCP connection and to the first request. */
async function once(): Promise<{ connect: number; request: number }> {
  const out = join(root, 'out')
  await rm(out, { recursive: true, force: true })
  let connectedAt = 0
  let resolveRequest = (_at: number) => {}
  const requested = new Promise<number>((resolve) => {
    resolveRequest = resolve
  })
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    connectedAt ||= performance.now()
    sockets.add(socket)
    socket.on('error', () => {})
    acceptPeer(socket, {
      findTorrent: () => ({ peerId: Buffer.from('-BENCH0-startup-peer'), pieceCount: meta.pieceCount }),
    }).then(
      (conn) => {
        conn.on('message', (message) => {
          if (message.type === 'request') resolveRequest(performance.now())
        })
        conn.haveAll()
        conn.unchoke()
      },
      () => {},
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [
      bt,
      'download',
      torrentPath,
      '-d',
      out,
      '--peer',
      `127.0.0.1:${port}`,
      '--no-dht',
      '--encryption',
      'allow',
      '--no-utp',
      '-q',
    ],
    { stdio: 'ignore' },
  )
  const requestAt = await Promise.race([
    requested,
    new Promise<number>((_, reject) => setTimeout(() => reject(new Error('no request within 10 s')), 10_000)),
  ])
  child.kill('SIGKILL')
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => server.close(resolve))
  return { connect: connectedAt - started, request: requestAt - started }
}

const results = []
for (let run = 0; run < runs; run++) results.push(await once())
const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]!
console.log(
  `bt download start-up, median of ${runs}: TCP connect at ${median(results.map((r) => r.connect)).toFixed(0)} ms, ` +
    `first request at ${median(results.map((r) => r.request)).toFixed(0)} ms after spawn (target ≤ 150)`,
)

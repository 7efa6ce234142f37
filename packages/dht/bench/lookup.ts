// The DHT benchmark (issue 11): on a loopback DHT of 40 libtorrent nodes and 10 of ours, the median time
// from start to first peer of a get_peers lookup and the queries it sent, beside libtorrent's own
// dht_get_peers on the same network; then the queries one node answers per second on one core, and the
// RSS of a node holding 5 000 peers and a full table. Run with `pnpm bench` (python3-libtorrent needed).
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BencodeDict, decode, encode } from '@bt/bencode'
import { startLibtorrentDht } from '@bt/test-helpers'
import { build } from 'tsup'
import { createDht, type Dht } from '../src/index.js'
import { randomIdWithPrefix } from '../src/node-id.js'

const ROUNDS = 9
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

async function lookups(): Promise<void> {
  const network = await startLibtorrentDht({ count: 40, subnet: '127.0.250', timeoutMs: 120_000 })
  const first = network.nodes[0]!
  const ours: Dht[] = []
  try {
    for (let i = 0; i < 10; i++) {
      const dht = createDht({
        host: `127.3.1.${i + 1}`,
        port: 0,
        restrictRoutingIps: false,
        bootstrap: [`${first.host}:${first.port}`],
      })
      await dht.start()
      ours.push(dht)
    }
    const ourTimes: number[] = []
    const ourQueries: number[] = []
    const ltTimes: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const infoHash = new Uint8Array(randomBytes(20))
      await network.announce(1 + round, hex(infoHash))
      await sleep(2_000)
      const dht = ours[round % ours.length]!
      const sentBefore = dht.stats().queriesSent
      const started = performance.now()
      let firstPeer: number | undefined
      let sentAtFirst = 0
      await dht.getPeers(infoHash, {
        onPeer: () => {
          if (firstPeer !== undefined) return
          firstPeer = performance.now() - started
          sentAtFirst = dht.stats().queriesSent - sentBefore
        },
      })
      if (firstPeer !== undefined) {
        ourTimes.push(firstPeer)
        ourQueries.push(sentAtFirst)
      }
      const lt = await network.timedGetPeers(20 + round, hex(infoHash), 10_000)
      if (lt.peers.length > 0) ltTimes.push(lt.ms)
    }
    const ours50 = median(ourTimes)
    const lt50 = median(ltTimes)
    console.log(
      `get_peers on 40 libtorrent + 10 @bt/dht nodes, ${ROUNDS} lookups for a peer announced by libtorrent:`,
    )
    console.log(
      `  @bt/dht     time to first peer: median ${ours50.toFixed(1)} ms (${ourTimes.length}/${ROUNDS} found), queries sent by then: median ${median(ourQueries)}`,
    )
    console.log(
      `  libtorrent  time to first peer: median ${lt50.toFixed(1)} ms (${ltTimes.length}/${ROUNDS} found)`,
    )
    console.log(`  ratio @bt/dht / libtorrent: ${(ours50 / lt50).toFixed(2)}`)
  } finally {
    await Promise.all(ours.map((dht) => dht.close()))
    await network.stop()
  }
}

interface Client {
  socket: Socket
  host: string
  id: Uint8Array
}

async function clients(count: number): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const socket = createSocket('udp4')
      const host = `127.3.2.${i + 1}`
      await new Promise<void>((resolve) => socket.bind(0, host, resolve))
      return { socket, host, id: new Uint8Array(randomBytes(20)) }
    }),
  )
}

async function serving(): Promise<void> {
  // Bundled first and run by plain node, so the RSS is the node's own and not tsx's.
  const outDir = await mkdtemp(join(tmpdir(), 'bt-dht-bench-'))
  await build({
    entry: [fileURLToPath(new URL('./serve-node.ts', import.meta.url))],
    outDir,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    noExternal: [/^@bt\//],
    esbuildOptions: (options) => {
      options.conditions = ['@bt/source']
    },
    config: false,
    silent: true,
  })
  const child = fork(join(outDir, 'serve-node.js'), ['127.3.0.1'], { execArgv: ['--expose-gc'] })
  child.once('exit', () => void rm(outDir, { recursive: true, force: true }))
  const message = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)))
  const { port, rss: emptyRss } = await message<{ port: number; rss: number }>()
  const to = { host: '127.3.0.1', port }
  const senders = await clients(50)
  try {
    // Fill the table as a node in a real network has it: 20 buckets of 8, one filler address per entry,
    // each pinging with an id in the bucket it should land in.
    child.send({ cmd: 'id' })
    const nodeId = new Uint8Array(Buffer.from((await message<{ nodeId: string }>()).nodeId, 'hex'))
    const fillers = await Promise.all(
      Array.from({ length: 160 }, async (_, i) => {
        const socket = createSocket('udp4')
        await new Promise<void>((resolve) => socket.bind(0, `127.3.3.${i + 1}`, resolve))
        return socket
      }),
    )
    for (const [i, socket] of fillers.entries()) {
      const id = randomIdWithPrefix(nodeId, Math.floor(i / 8))
      socket.send(encode({ t: 'fi', y: 'q', q: 'ping', a: { id } }), to.port, to.host)
      if (i % 20 === 19) await sleep(5)
    }
    await sleep(200)
    for (const socket of fillers) socket.close()
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`
    const report = async (when: string) => {
      child.send({ cmd: 'stats' })
      const { rss, heapUsed, stats } = await message<{
        rss: number
        heapUsed: number
        stats: { peersStored: number; nodes: { v4: number } }
      }>()
      console.log(
        `RSS of a node holding ${stats.peersStored} peers and ${stats.nodes.v4} nodes in its table${when}: ` +
          `${mb(rss)} (heap ${mb(heapUsed)}; right after start: ${mb(emptyRss)})`,
      )
    }
    await fillStore(senders, to)
    await report('')
    await throughput(senders, to)
    await report(' after the load')
  } finally {
    for (const client of senders) client.socket.close()
    child.send({ cmd: 'exit' })
  }
}

/** 5 000 peers: 50 senders × 100 info hashes, each sender announcing its own port per hash. */
async function fillStore(senders: Client[], to: { host: string; port: number }): Promise<void> {
  const tokens = new Map<Client, Uint8Array>()
  for (const client of senders) {
    client.socket.on('message', (packet) => {
      const r = (decode(packet) as BencodeDict).get('r')
      const token = r instanceof Map ? r.get('token') : undefined
      if (token instanceof Uint8Array) tokens.set(client, token)
    })
  }
  for (let attempt = 0; attempt < 5 && tokens.size < senders.length; attempt++) {
    for (const client of senders) {
      if (tokens.has(client)) continue
      const query = { t: 'gp', y: 'q', q: 'get_peers', a: { id: client.id, info_hash: client.id } }
      client.socket.send(encode(query), to.port, to.host)
    }
    await sleep(200)
  }
  for (let h = 0; h < 100; h++) {
    const hash = new Uint8Array(randomBytes(20))
    for (const [client, token] of tokens) {
      const announce = {
        t: 'an',
        y: 'q',
        q: 'announce_peer',
        a: { id: client.id, info_hash: hash, port: 1000 + h, token },
      }
      client.socket.send(encode(announce), to.port, to.host)
    }
    await sleep(20)
  }
  await sleep(300)
  for (const client of senders) client.socket.removeAllListeners('message')
}

/**
 * Every sender keeps 16 find_node/get_peers queries outstanding for 5 s; a sender whose queries were all
 * lost (the kernel drops what overflows the node's socket buffer) starts again.
 */
async function throughput(senders: Client[], to: { host: string; port: number }): Promise<void> {
  let answered = 0
  let running = true
  const infoHash = new Uint8Array(randomBytes(20))
  const kicks: (() => void)[] = []
  for (const client of senders) {
    let n = 0
    let lastReply = 0
    const next = () => {
      if (!running) return
      n = (n + 1) & 0xffff
      const t = Uint8Array.of(n >> 8, n & 0xff)
      const query =
        n % 2 === 0
          ? { t, y: 'q', q: 'find_node', a: { id: client.id, target: new Uint8Array(randomBytes(20)) } }
          : { t, y: 'q', q: 'get_peers', a: { id: client.id, info_hash: infoHash } }
      client.socket.send(encode(query), to.port, to.host)
    }
    client.socket.on('message', () => {
      answered++
      lastReply = performance.now()
      next()
    })
    kicks.push(() => {
      if (performance.now() - lastReply < 50) return
      for (let i = 0; i < 16; i++) next()
    })
  }
  const kicker = setInterval(() => {
    for (const kick of kicks) kick()
  }, 50)
  const started = performance.now()
  await sleep(5_000)
  running = false
  clearInterval(kicker)
  const seconds = (performance.now() - started) / 1000
  await sleep(200)
  for (const client of senders) client.socket.removeAllListeners('message')
  console.log(
    `queries answered by one node (its own process, one core): ${Math.round(answered / seconds)} per second`,
  )
}

await lookups()
await serving()

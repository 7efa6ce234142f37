// One DHT node alone in its process, for the throughput and memory parts of the benchmark: the parent
// (bench/lookup.ts) loads it over loopback and asks for its RSS over IPC.
import { createDht } from '../src/index.js'

const dht = createDht({
  host: process.argv[2] ?? '127.3.0.1',
  port: 0,
  bootstrap: [],
  restrictRoutingIps: false,
  // The load comes from a handful of addresses: per-IP limits would measure the limiter, not the node.
  queryRateLimit: { rate: 1e9, burst: 1e9 },
  perNodeSendLimit: { rate: 1e9, burst: 1e9 },
  sendBudget: { rate: 1e9, burst: 1e9 },
})
await dht.start()
globalThis.gc?.()
process.send?.({ port: dht.address()!.port, rss: process.memoryUsage().rss })
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'stats' || message.cmd === 'id') {
    globalThis.gc?.()
    const { rss, heapUsed } = process.memoryUsage()
    process.send?.({ rss, heapUsed, stats: dht.stats(), nodeId: Buffer.from(dht.nodeId).toString('hex') })
  }
  if (message.cmd === 'exit') dht.close().then(() => process.exit(0))
})

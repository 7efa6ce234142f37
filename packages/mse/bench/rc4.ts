// RC4 throughput on one core: our TypeScript RC4 and, when this Node offers it (run with
// --openssl-legacy-provider), OpenSSL's; then an RC4 MSE stream over loopback TCP, both directions
// encrypted, as a peer connection carries it.
import { randomBytes } from 'node:crypto'
import { createServer, connect as netConnect, type Socket } from 'node:net'
import { accept, createRc4, initiate, preferredRc4 } from '../src/index.js'

const TOTAL = 512 * 1024 * 1024

function cipherRate(implementation: 'openssl' | 'typescript', chunkSize: number): number {
  const rc4 = createRc4(randomBytes(20), 1024, implementation)
  const chunk = randomBytes(chunkSize)
  for (let i = 0; i < 64; i++) rc4.update(chunk)
  const started = process.hrtime.bigint()
  for (let done = 0; done < TOTAL; done += chunkSize) rc4.update(chunk)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return TOTAL / seconds / 1e6
}

async function streamRate(): Promise<number> {
  const host = '127.0.40.1'
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const port = (server.address() as { port: number }).port
  const incoming = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const left = netConnect({ host, port })
  await new Promise((resolve) => left.once('connect', resolve))
  const right = await incoming
  server.close()
  const infoHash = randomBytes(20)
  const [a, b] = await Promise.all([
    initiate(left, { infoHash, methods: ['rc4'] }),
    accept(right, { findInfoHash: () => infoHash }),
  ])
  const total = 256 * 1024 * 1024
  const block = randomBytes(16 * 1024 + 13)
  const started = process.hrtime.bigint()
  const received = new Promise<void>((resolve) => {
    let got = 0
    b.stream.on('data', (chunk: Buffer) => {
      got += chunk.length
      if (got >= total) resolve()
    })
  })
  let sent = 0
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < total) {
        sent += block.length
        if (!a.stream.write(block)) {
          a.stream.once('drain', pump)
          return
        }
      }
      resolve()
    }
    pump()
  })
  await received
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  a.stream.destroy()
  b.stream.destroy()
  return total / seconds / 1e6
}

const implementations =
  preferredRc4() === 'openssl' ? (['typescript', 'openssl'] as const) : (['typescript'] as const)
console.log(`node ${process.version}, preferred RC4: ${preferredRc4()}`)
for (const implementation of implementations) {
  for (const chunkSize of [16 * 1024 + 13, 1024 * 1024]) {
    const rate = cipherRate(implementation, chunkSize)
    console.log(
      `rc4 ${implementation.padEnd(10)} ${String(chunkSize).padStart(8)}-byte chunks: ${rate.toFixed(0)} MB/s`,
    )
  }
}
console.log(
  `mse rc4 stream over loopback TCP (encrypt + decrypt on one thread): ${(await streamRate()).toFixed(0)} MB/s`,
)

// One end of the kernel-shaped transfer (shaped.test.ts), run inside its own network namespace:
//   receive HOST PORT BYTES  — accepts one connection, reads BYTES, prints {"sha1","bytes"}
//   send HOST PORT BYTES     — dials, writes BYTES of seeded data, prints {"sha1","seconds",…}
import { createUtpSocket } from '../src/index.js'
import { hashStream, sha1, writeAll } from './helpers.js'

const [mode, hostArg, portText, bytesText] = process.argv.slice(2)
const host = hostArg ?? '10.250.0.2'
const port = Number(portText)
const bytes = Number(bytesText)

function seeded(length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  let x = 0x12345678
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out.writeInt32LE(x | 0, Math.min(i, length - 4))
  }
  return out
}

if (mode === 'receive') {
  const socket = await createUtpSocket({ host, port })
  const connection = await new Promise<import('../src/index.js').UtpConnection>((resolve) =>
    socket.once('connection', resolve),
  )
  const got = await hashStream(connection)
  const closed = new Promise((resolve) => connection.once('close', resolve))
  connection.end()
  await closed
  console.log(JSON.stringify(got))
  await socket.close()
} else {
  const socket = await createUtpSocket({ host: '0.0.0.0' })
  const data = seeded(bytes)
  let connection: import('../src/index.js').UtpConnection | undefined
  for (let attempt = 0; !connection; attempt++) {
    try {
      connection = await socket.connect(port, host, { timeoutMs: 1500 })
    } catch (error) {
      if (attempt >= 10) throw error
    }
  }
  const started = performance.now()
  const done = new Promise((resolve) => connection.once('close', resolve))
  connection.resume()
  await writeAll(connection, data)
  await done
  const seconds = (performance.now() - started) / 1000
  const stats = connection.stats()
  console.log(
    JSON.stringify({
      sha1: sha1(data),
      bytes: data.length,
      seconds,
      retransmits: stats.retransmits,
      rttMs: stats.rttMs,
    }),
  )
  await socket.close()
}

// Transfers over a link with loss and delay (a user-space relay, see lossy-link.ts): they complete
// byte for byte, fast retransmit and timeouts recover every hole, LEDBAT backs off on loss.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createUtpSocket, type UtpConnection, type UtpSocket } from '../src/index.js'
import { hashStream, sha1, withTimeout, writeAll } from './helpers.js'
import { type LossyLink, seededRandom, startLossyLink } from './lossy-link.js'

const CLIENT = '127.0.50.31'
const RELAY_FRONT = '127.0.50.32'
const RELAY_BACK = '127.0.50.33'
const SERVER = '127.0.50.34'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function overLink(delayMs: number, loss: number, seed: number) {
  const server: UtpSocket = await createUtpSocket({ host: SERVER })
  cleanups.push(() => server.close())
  const link: LossyLink = await startLossyLink({
    frontHost: RELAY_FRONT,
    backHost: RELAY_BACK,
    serverHost: SERVER,
    serverPort: server.address().port,
    delayMs,
    loss,
    random: seededRandom(seed),
  })
  cleanups.push(() => link.close())
  const client = await createUtpSocket({ host: CLIENT })
  cleanups.push(() => client.close())
  const accepted = new Promise<UtpConnection>((resolve) => server.once('connection', resolve))
  const dialled = await client.connect(link.port, RELAY_FRONT, { timeoutMs: 10_000 })
  return { link, dialled, accepted: await withTimeout(accepted, 10_000, 'accept') }
}

describe('uTP over a lossy, delayed link', () => {
  it('delivers 4 MiB each way intact at 1 % loss and 20 ms each way', async () => {
    const { link, dialled, accepted } = await overLink(20, 0.01, 29)
    const up = randomBytes(4 << 20)
    const down = randomBytes(4 << 20)
    const started = performance.now()
    const [atServer, atClient] = await withTimeout(
      Promise.all([
        hashStream(accepted),
        hashStream(dialled),
        writeAll(dialled, up),
        writeAll(accepted, down),
      ]),
      100_000,
      'transfer over the lossy link',
    )
    const seconds = (performance.now() - started) / 1000
    expect(atServer).toEqual({ bytes: up.length, sha1: sha1(up) })
    expect(atClient).toEqual({ bytes: down.length, sha1: sha1(down) })
    // The link really lost packets and we really repaired them.
    expect(link.dropped).toBeGreaterThan(20)
    expect(dialled.stats().retransmits + accepted.stats().retransmits).toBeGreaterThan(0)
    console.log(
      `lossy link (1 %, 2×20 ms): ${((up.length + down.length) / seconds / 1e6).toFixed(2)} MB/s both ways together, ` +
        `rtt ${dialled.stats().rttMs?.toFixed(1)} ms, ${link.dropped} dropped, ` +
        `${dialled.stats().retransmits + accepted.stats().retransmits} retransmits`,
    )
  }, 120_000)

  it('survives heavy loss (10 %) without giving up', async () => {
    const { link, dialled, accepted } = await overLink(5, 0.1, 7)
    const data = randomBytes(512 * 1024)
    const [got] = await withTimeout(
      Promise.all([hashStream(accepted), writeAll(dialled, data)]),
      100_000,
      'transfer at 10 % loss',
    )
    expect(got).toEqual({ bytes: data.length, sha1: sha1(data) })
    expect(link.dropped).toBeGreaterThan(10)
  }, 120_000)
})

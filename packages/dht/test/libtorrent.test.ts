// Interop with a private DHT of 16 real libtorrent nodes on loopback (python3-libtorrent), with
// libtorrent's per-IP block (50 packets in 10 s) left as it is: our node must stay under it.
import { randomBytes } from 'node:crypto'
import { describeWithTools, type LibtorrentDht, startLibtorrentDht } from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createDht, type Dht, type DhtWarning } from '../src/index.js'
import { loopbackHost } from './loopback.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

async function eventually<T>(
  attempt: () => Promise<T | undefined>,
  timeoutMs: number,
  pauseMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await attempt()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
}

describeWithTools(['py:libtorrent'], 'interop with a libtorrent DHT', () => {
  let network: LibtorrentDht
  let ours: Dht
  const warnings: DhtWarning[] = []

  beforeAll(async () => {
    network = await startLibtorrentDht({ count: 16 })
    const first = network.nodes[0]!
    ours = createDht({
      host: loopbackHost(),
      port: 0,
      restrictRoutingIps: false,
      bootstrap: [`${first.host}:${first.port}`],
    })
    ours.on('warning', (warning) => warnings.push(warning))
    await ours.start()
  }, 90_000)

  afterAll(async () => {
    await ours?.close()
    await network?.stop()
  })

  it('bootstraps from one libtorrent node into a full table', () => {
    expect(ours.stats().nodes.v4).toBeGreaterThanOrEqual(8)
    const hosts = new Set(network.nodes.map((node) => node.host))
    for (const node of ours.nodes()) expect(hosts.has(node.host)).toBe(true)
  })

  it('finds a peer that a libtorrent node announced', async () => {
    const infoHash = new Uint8Array(randomBytes(20))
    const port = await network.announce(5, hex(infoHash))
    const found = await eventually(async () => {
      const { peers, stats } = await ours.getPeers(infoHash)
      expect(stats.answered).toBeGreaterThan(0)
      return peers.find((peer) => peer.host === network.nodes[5]!.host && peer.port === port)
    }, 15_000)
    expect(found).toBeDefined()
  })

  it('libtorrent finds a peer our node announced', async () => {
    const infoHash = new Uint8Array(randomBytes(20))
    const result = await ours.announce(infoHash, { port: 41_001 })
    expect(result.announcedTo).toBeGreaterThanOrEqual(4)
    const peers = await eventually(async () => {
      const got = await network.getPeers(11, hex(infoHash), 5_000)
      return got.length > 0 ? got : undefined
    }, 20_000)
    expect(peers).toContain(`${ours.address()!.host}:41001`)
  })

  it('libtorrent nodes put our node in their tables and announce to it with our tokens', async () => {
    const address = `${ours.address()!.host}:${ours.address()!.port}`
    const holders = await eventually(
      async () => {
        const tables = await Promise.all(network.nodes.map((_, i) => network.table(i)))
        const count = tables.filter((table) => table.includes(address)).length
        return count >= 3 ? count : undefined
      },
      30_000,
      2_000,
    )
    expect(holders).toBeGreaterThanOrEqual(3)
    // An info hash next to our id: we are among the closest nodes, so libtorrent's announce_peer comes
    // to us, carrying the token our get_peers answer gave it.
    const infoHash = Uint8Array.from(ours.nodeId)
    infoHash[19] = infoHash[19]! ^ 1
    const before = ours.stats().peersStored
    const port = await network.announce(7, hex(infoHash))
    await eventually(async () => (ours.stats().peersStored > before ? true : undefined), 15_000, 250)
    // And libtorrent's get_peers gets that peer from us (or from the others it announced to).
    const peers = await network.getPeers(9, hex(infoHash), 10_000)
    expect(peers).toContain(`${network.nodes[7]!.host}:${port}`)
    expect(ours.stats().queriesReceived).toBeGreaterThan(0)
    expect(ours.stats().dropped.rateLimited).toBe(0)
  })

  it('stayed silent about nothing: no malformed packets, no send failures', () => {
    expect(warnings.filter((w) => w.type === 'malformed-packet' || w.type === 'send-failed')).toEqual([])
    expect(ours.stats().dropped.malformed).toBe(0)
  })
})

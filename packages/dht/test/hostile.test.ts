// Hostile nodes over raw UDP: garbage, wrong transaction ids, huge or malformed `nodes`, a query flood
// from one IP, and a node that answers every find_node with 8 fake ids pointing nowhere.
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { type BencodeDict, encode } from '@bt/bencode'
import { ipToBytes } from '@bt/peer-address'
import { afterEach, describe, expect, it } from 'vitest'
import { createDht, type Dht } from '../src/index.js'
import { type HostileNode, startHostileNode } from './hostile-node.js'
import { loopbackHost } from './loopback.js'

const running: (Dht | HostileNode)[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()))
})

async function ourNode(init: Parameters<typeof createDht>[0] = {}): Promise<Dht> {
  const dht = createDht({ host: loopbackHost(), port: 0, restrictRoutingIps: false, bootstrap: [], ...init })
  running.push(dht)
  await dht.start()
  return dht
}

async function hostile(handler?: Parameters<typeof startHostileNode>[0]): Promise<HostileNode> {
  const node = await startHostileNode(handler)
  running.push(node)
  return node
}

const t = (query: BencodeDict) => query.get('t') as Uint8Array
const compactNode = (id: Uint8Array, host: string, port: number) => {
  const out = new Uint8Array(26)
  out.set(id)
  out.set(ipToBytes(host)!, 20)
  out[24] = port >> 8
  out[25] = port & 0xff
  return out
}
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('hostile nodes', () => {
  it('survives garbage datagrams and still answers', async () => {
    const dht = await ourNode({ queryRateLimit: { rate: 1000, burst: 1000 } })
    const attacker = await hostile()
    const target = dht.address()!
    const garbage = [
      new Uint8Array(0),
      new TextEncoder().encode('d1:t'),
      new TextEncoder().encode('i1e'),
      new TextEncoder().encode('d1:ti5e1:y1:qe'),
      encode({ t: 'aa', y: 'q', q: 'find_node', a: { id: 'short' } }),
      encode({
        t: 'aa',
        y: 'q',
        q: 'announce_peer',
        a: { id: new Uint8Array(20), info_hash: new Uint8Array(20), port: 99999, token: 'x' },
      }),
      encode({ t: 'aa', y: 'q', q: 'get_peers', a: { id: new Uint8Array(20), info_hash: 5 } }),
      encode({ t: 'aa', y: 'r', r: { id: new Uint8Array(20), nodes: new Uint8Array(27) } }),
      encode({ t: 'aa', y: 'e', e: 'not a list' }),
      new TextEncoder().encode(`d1:t2:aa1:y1:q1:q4:ping1:a${'l'.repeat(5000)}${'e'.repeat(5000)}e`),
      new Uint8Array(randomBytes(1400)),
      new Uint8Array(60_000).fill(0x64),
    ]
    for (let i = 0; i < 20; i++) for (const packet of garbage) await attacker.send(packet, target)
    for (let i = 0; i < 200; i++) await attacker.send(new Uint8Array(randomBytes(1 + (i % 300))), target)
    await sleep(200)
    // The kernel drops part of such a burst; what arrives is counted, never thrown.
    expect(dht.stats().dropped.malformed).toBeGreaterThan(20)
    // Unknown methods get error 204; the node answers a ping afterwards.
    const replies: Buffer[] = []
    const probe = await hostile()
    probe.socket.on('message', (packet) => replies.push(packet))
    await probe.send(encode({ t: 'zz', y: 'q', q: 'vote', a: { id: new Uint8Array(20) } }), target)
    const pinger = await ourNode()
    expect(await pinger.ping(target)).toEqual(dht.nodeId)
    await sleep(100)
    expect(replies[0]?.toString('latin1')).toContain('i204e')
  })

  it('ignores answers with a wrong transaction id or from another address', async () => {
    const liar = await hostile((query) => {
      const wrong = Uint8Array.from(t(query))
      wrong[0] = wrong[0]! ^ 0xff
      return encode({ t: wrong, y: 'r', r: { id: new Uint8Array(20).fill(7) } })
    })
    const accomplice = await hostile()
    const dht = await ourNode({ queryTimeoutMs: 800 })
    // The accomplice copies the right transaction id, but answers from its own address.
    liar.socket.on('message', () => {
      const query = liar.received.at(-1)
      if (query)
        accomplice.send(
          encode({ t: t(query), y: 'r', r: { id: new Uint8Array(20).fill(9) } }),
          dht.address()!,
        )
    })
    await expect(dht.ping({ host: liar.host, port: liar.port })).rejects.toMatchObject({
      name: 'DhtQueryTimeoutError',
    })
    await sleep(100)
    expect(dht.stats().dropped.unmatched).toBeGreaterThanOrEqual(2)
    expect(dht.nodes()).toEqual([])
  })

  it('refuses huge and malformed nodes fields, keeping the lookup going', async () => {
    const huge = await hostile((query) =>
      encode({
        t: t(query),
        y: 'r',
        r: { id: new Uint8Array(randomBytes(20)), nodes: new Uint8Array(26 * 400).fill(1) },
      }),
    )
    const malformed = await hostile((query) =>
      encode({
        t: t(query),
        y: 'r',
        r: {
          id: new Uint8Array(randomBytes(20)),
          nodes: new Uint8Array(26 * 3 + 1).fill(1),
          values: [5, 'x'],
        },
      }),
    )
    const dht = await ourNode({ queryTimeoutMs: 800 })
    const result = await dht.findNode(new Uint8Array(randomBytes(20)))
    expect(result.stats.queried).toBe(0)
    await dht.ping({ host: malformed.host, port: malformed.port })
    const lookup = await dht.getPeers(new Uint8Array(randomBytes(20)))
    expect(lookup.peers).toEqual([])
    expect(lookup.stats.answered).toBe(1)
    // The oversized answer is dropped unread: the ping times out.
    await expect(dht.ping({ host: huge.host, port: huge.port })).rejects.toMatchObject({
      name: 'DhtQueryTimeoutError',
    })
  })

  it('rate-limits a query flood from one IP with flat memory', async () => {
    const dht = await ourNode()
    const flooder = createSocket('udp4')
    const host = loopbackHost()
    await new Promise<void>((resolve) => flooder.bind(0, host, resolve))
    let answers = 0
    flooder.on('message', () => answers++)
    const target = dht.address()!
    const ping = (i: number) =>
      encode({ t: Uint8Array.of(i >> 8, i & 0xff), y: 'q', q: 'ping', a: { id: new Uint8Array(20).fill(3) } })
    const started = Date.now()
    const heapBefore = process.memoryUsage().heapUsed
    // Paced in bursts of 100: one event loop serves both ends, and an unpaced burst overflows the
    // socket's receive buffer, so the kernel, not our limiter, would drop most of it.
    for (let round = 0; round < 100; round++) {
      await Promise.all(
        Array.from(
          { length: 100 },
          (_, i) =>
            new Promise<void>((resolve) =>
              flooder.send(ping(round * 100 + i), target.port, target.host, () => resolve()),
            ),
        ),
      )
      await sleep(2)
    }
    await sleep(300)
    const seconds = (Date.now() - started) / 1000
    flooder.close()
    const stats = dht.stats()
    expect(stats.dropped.rateLimited + stats.queriesReceived).toBeGreaterThan(2_000)
    // Burst of 25, then 5 per second; and what we send to one IP is capped (3/s, burst 15) anyway.
    expect(stats.queriesReceived).toBeLessThanOrEqual(25 + Math.ceil(seconds * 5))
    expect(answers).toBeLessThanOrEqual(stats.queriesReceived)
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(40 * 1024 * 1024)
    expect(dht.stats().nodes.v4).toBeLessThanOrEqual(1)
  })

  it('a lookup ends in bounded time when a node answers with 8 fake ids pointing nowhere', async () => {
    const target = new Uint8Array(randomBytes(20))
    // Fake ids next to the target, on loopback ports where nothing listens.
    const fakes = () =>
      concat(
        Array.from({ length: 8 }, (_, i) => {
          const id = Uint8Array.from(target)
          id[19] = id[19]! ^ (i + 1)
          id[18] = randomBytes(1)[0]!
          return compactNode(id, loopbackHost(), 9 + i)
        }),
      )
    const liar = await hostile((query) =>
      encode({
        t: t(query),
        y: 'r',
        r: { id: new Uint8Array(randomBytes(20)), nodes: fakes(), token: 'tk' },
      }),
    )
    const dht = await ourNode({ queryTimeoutMs: 2_000, softTimeoutMs: 500 })
    await dht.ping({ host: liar.host, port: liar.port })
    const started = Date.now()
    const result = await dht.getPeers(target)
    const elapsed = Date.now() - started
    expect(elapsed).toBeLessThan(8_000)
    expect(result.stats.answered).toBe(1)
    expect(result.stats.queried).toBe(9)
    // The fakes never answered, so they never entered the table.
    expect(dht.nodes().map((node) => node.host)).toEqual([liar.host])
  }, 20_000)
})

// What our node answers, checked byte by byte from a raw UDP socket: BEP 33 scrapes, BEP 51 samples,
// BEP 32 want lists, the BEP 42 `ip` key, and the bounds on `values`.
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { type BencodeDict, decode, encode } from '@bt/bencode'
import { afterEach, describe, expect, it } from 'vitest'
import { bloomEstimate, createDht, type Dht } from '../src/index.js'
import { loopbackHost } from './loopback.js'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

/** A raw client on its own loopback address: `ask` sends one query and resolves with the `r` or `e` dictionary. */
async function rawClient(host = loopbackHost()) {
  const family = host.includes(':') ? 'udp6' : 'udp4'
  const socket = createSocket(family)
  await new Promise<void>((resolve) => socket.bind(0, host, resolve))
  closers.push(() => new Promise((resolve) => socket.close(() => resolve())))
  let n = 0
  const id = new Uint8Array(randomBytes(20))
  return {
    host,
    port: socket.address().port,
    ask(
      to: { host: string; port: number },
      method: string,
      args: Record<string, unknown>,
    ): Promise<BencodeDict> {
      const t = Uint8Array.of(0x70, n++)
      const query = encode({ t, y: 'q', q: method, a: { id, ...args } as never })
      return new Promise((resolve, reject) => {
        // UDP may drop a datagram (130 clients at once on a loaded machine): resent every 500 ms, as
        // a KRPC client would, within the same 2 s.
        const resend = setInterval(() => socket.send(query, to.port, to.host), 500)
        const timer = setTimeout(() => {
          clearInterval(resend)
          reject(new Error(`no answer to ${method}`))
        }, 2000)
        const onMessage = (packet: Buffer) => {
          const message = decode(packet) as BencodeDict
          if (Buffer.compare(message.get('t') as Uint8Array, t) !== 0) return
          clearTimeout(timer)
          clearInterval(resend)
          socket.off('message', onMessage)
          resolve(message)
        }
        socket.on('message', onMessage)
        socket.send(query, to.port, to.host)
      })
    },
  }
}

async function node(init: Parameters<typeof createDht>[0] = {}): Promise<Dht> {
  const dht = createDht({ host: loopbackHost(), port: 0, restrictRoutingIps: false, bootstrap: [], ...init })
  closers.push(() => dht.close())
  await dht.start()
  return dht
}

describe('serving', () => {
  it('stores announces with valid tokens only, serves values, BEP 33 scrapes and BEP 51 samples', async () => {
    const dht = await node()
    const to = dht.address()!
    const infoHash = new Uint8Array(randomBytes(20))
    const seeds = await Promise.all(Array.from({ length: 3 }, () => rawClient()))
    const leecher = await rawClient()
    for (const [i, client] of [...seeds, leecher].entries()) {
      const answer = await client.ask(to, 'get_peers', { info_hash: infoHash })
      const r = answer.get('r') as BencodeDict
      const token = r.get('token') as Uint8Array
      expect(token.length).toBeGreaterThan(0)
      // The `ip` key tells the querier its address (BEP 42).
      expect([...(answer.get('ip') as Uint8Array).subarray(0, 4)].join('.')).toBe(client.host)
      const stolen = await client.ask(to, 'announce_peer', {
        info_hash: infoHash,
        port: 7000,
        token: Uint8Array.of(1, 2, 3),
      })
      expect(stolen.get('y')).toEqual(new TextEncoder().encode('e'))
      const ok = await client.ask(to, 'announce_peer', {
        info_hash: infoHash,
        port: 7000 + i,
        token,
        seed: i < 3 ? 1 : 0,
      })
      expect(ok.get('y')).toEqual(new TextEncoder().encode('r'))
    }
    const asker = await rawClient()
    const r = (await asker.ask(to, 'get_peers', { info_hash: infoHash, scrape: 1 })).get('r') as BencodeDict
    expect((r.get('values') as Uint8Array[]).length).toBe(4)
    expect(Math.round(bloomEstimate(r.get('BFsd') as Uint8Array))).toBe(3)
    expect(Math.round(bloomEstimate(r.get('BFpe') as Uint8Array))).toBe(1)
    const samples = (await asker.ask(to, 'sample_infohashes', { target: infoHash })).get('r') as BencodeDict
    expect(samples.get('samples')).toEqual(infoHash)
    expect(samples.get('num')).toBe(1)
    expect(dht.stats()).toMatchObject({ infoHashesStored: 1, peersStored: 4 })
  })

  it('returns at most 100 values and keeps answers within one datagram', async () => {
    const dht = await node({
      queryRateLimit: { rate: 1000, burst: 1000 },
      perNodeSendLimit: { rate: 1000, burst: 1000 },
    })
    const to = dht.address()!
    const infoHash = new Uint8Array(randomBytes(20))
    const clients = await Promise.all(Array.from({ length: 130 }, () => rawClient()))
    await Promise.all(
      clients.map(async (client) => {
        const token = (
          (await client.ask(to, 'get_peers', { info_hash: infoHash })).get('r') as BencodeDict
        ).get('token')
        await client.ask(to, 'announce_peer', { info_hash: infoHash, implied_port: 1, port: 1, token })
      }),
    )
    const answer = await clients[0]!.ask(to, 'get_peers', { info_hash: infoHash })
    const values = (answer.get('r') as BencodeDict).get('values') as Uint8Array[]
    expect(values).toHaveLength(100)
    expect(encode(answer).length).toBeLessThan(1500)
  })

  it('answers unknown methods with 204 and missing arguments with 203', async () => {
    const dht = await node()
    const client = await rawClient()
    const unknown = await client.ask(dht.address()!, 'vote', {})
    expect((unknown.get('e') as unknown[])[0]).toBe(204)
    const missing = await client.ask(dht.address()!, 'find_node', {})
    expect((missing.get('e') as unknown[])[0]).toBe(203)
  })
})

const hasIpv6Loopback = await new Promise<boolean>((resolve) => {
  const socket = createSocket('udp6')
  socket.once('error', () => resolve(false))
  socket.bind(0, '::1', () => socket.close(() => resolve(true)))
})

describe.runIf(hasIpv6Loopback)('BEP 32 over ::1', () => {
  it('keeps a separate IPv6 table, answers want n4/n6, and finds peers over IPv6', async () => {
    // Every IPv6 node shares the one address ::1, so the per-IP limits would throttle them as one host.
    const relaxed = {
      queryRateLimit: { rate: 1000, burst: 1000 },
      perNodeSendLimit: { rate: 1000, burst: 1000 },
    }
    const first = await node({ host6: '::1', ...relaxed })
    const bootstrap = [`[::1]:${first.address(6)!.port}`, `${first.address()!.host}:${first.address()!.port}`]
    const others = await Promise.all(
      Array.from({ length: 4 }, () => node({ host6: '::1', bootstrap, ...relaxed })),
    )
    for (const dht of others) {
      await dht.findNode(dht.nodeId)
      expect(dht.stats().nodes.v6).toBeGreaterThan(0)
      expect(dht.stats().nodes.v4).toBeGreaterThan(0)
    }
    const infoHash = new Uint8Array(randomBytes(20))
    await others[0]!.announce(infoHash, { port: 6000 })
    const { peers } = await others[3]!.getPeers(infoHash)
    expect(peers).toContainEqual({ host: '::1', port: 6000 })
    expect(peers).toContainEqual({ host: others[0]!.address()!.host, port: 6000 })
    const client = await rawClient('::1')
    const both = (
      await client.ask(first.address(6)!, 'find_node', { target: infoHash, want: ['n4', 'n6'] })
    ).get('r') as BencodeDict
    expect((both.get('nodes') as Uint8Array).length % 26).toBe(0)
    expect((both.get('nodes6') as Uint8Array).length).toBeGreaterThanOrEqual(38)
    const v6only = (await client.ask(first.address(6)!, 'find_node', { target: infoHash })).get(
      'r',
    ) as BencodeDict
    expect(v6only.has('nodes')).toBe(false)
  })
})

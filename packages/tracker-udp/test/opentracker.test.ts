// Interop with Debian's opentracker (IPv4-only, whitelist build), started per suite on free ports.
import { randomBytes } from 'node:crypto'
import { describeWithTools, type LoopbackTracker, startOpentracker } from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import {
  type AnnounceParams,
  createUdpTrackerClient,
  type UdpTrackerClient,
  type UdpTrackerClientInit,
  UdpTrackerProtocolError,
} from '../src/index.js'
import { startUdpRelay } from './udp-relay.js'

const CONNECT = 0
const ANNOUNCE = 1
const PROTOCOL_ID = 0x41727101980n

// opentracker only tracks whitelisted info hashes; each test takes its own.
const whitelisted = Array.from({ length: 8 }, () => randomBytes(20))
let nextHash = 0
const takeHash = () => whitelisted[nextHash++]!

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

function client(init: UdpTrackerClientInit = {}): UdpTrackerClient {
  const created = createUdpTrackerClient({ retransmitBaseMs: 500, maxRetransmits: 3, ...init })
  cleanups.push(() => created.close())
  return created
}

function params(infoHash: Uint8Array, overrides: Partial<AnnounceParams> = {}): AnnounceParams {
  return {
    infoHash,
    peerId: randomBytes(20),
    port: 6881,
    uploaded: 0,
    downloaded: 0,
    left: 1000,
    ...overrides,
  }
}

const options = { timeoutMs: 5000 }

describeWithTools(['opentracker'], 'opentracker over UDP', () => {
  let tracker: LoopbackTracker
  let port: number
  let url: string

  beforeAll(async () => {
    tracker = await startOpentracker(whitelisted.map((hash) => hash.toString('hex')))
    port = Number(new URL(tracker.udpUrl).port)
    url = `${tracker.udpUrl}/announce`
  })

  afterAll(async () => {
    await tracker?.close()
  })

  it('announces, re-announces on the cached connection id, scrapes and stops', async () => {
    const relay = await startUdpRelay({ address: '127.0.0.1', port })
    cleanups.push(() => relay.close())
    const relayed = relay.url('/announce')
    const udp = client()
    const infoHash = takeHash()
    const me = params(infoHash, { port: 7301 })

    const first = await udp.announce(relayed, { ...me, event: 'started' }, options)
    expect(first).toMatchObject({ leechers: 1, seeders: 0 })
    expect(first.interval).toBeGreaterThan(0)
    expect(first.peers).toContainEqual({ host: '127.0.0.1', port: 7301 })

    await udp.announce(relayed, me, options)
    expect(relay.requests.map((r) => r.action)).toEqual([CONNECT, ANNOUNCE, ANNOUNCE])
    const [, firstAnnounce, secondAnnounce] = relay.requests
    expect(firstAnnounce!.connectionId).not.toBe(PROTOCOL_ID)
    expect(secondAnnounce!.connectionId).toBe(firstAnnounce!.connectionId)

    await udp.announce(relayed, { ...me, left: 0, event: 'completed' }, options)
    expect(await udp.scrape(relayed, [infoHash], options)).toEqual([
      { infoHash: new Uint8Array(infoHash), seeders: 1, completed: 1, leechers: 0 },
    ])
    await udp.announce(relayed, { ...me, left: 0, event: 'stopped' }, options)
    expect(await udp.scrape(relayed, [infoHash], options)).toMatchObject([{ seeders: 0, leechers: 0 }])
    expect(relay.requests.filter((r) => r.action === CONNECT)).toHaveLength(1)
  })

  it('connects again after the connection id expired, and opentracker accepts the new one', async () => {
    const relay = await startUdpRelay({ address: '127.0.0.1', port })
    cleanups.push(() => relay.close())
    const udp = client({ connectionIdTtlMs: 50 })
    const infoHash = takeHash()
    await udp.announce(relay.url(), params(infoHash, { port: 7501 }), options)
    await new Promise((resolve) => setTimeout(resolve, 100))
    // opentracker tells peers apart by address and port.
    const second = await udp.announce(relay.url(), params(infoHash, { port: 7502 }), options)
    expect(second).toMatchObject({ leechers: 2 })
    expect(relay.requests.map((r) => r.action)).toEqual([CONNECT, ANNOUNCE, CONNECT, ANNOUNCE])
  })

  it('lets two clients see each other', async () => {
    const infoHash = takeHash()
    const leecher = client()
    const seeder = client()
    await leecher.announce(url, params(infoHash, { port: 7401, event: 'started' }), options)
    const seen = await seeder.announce(
      url,
      params(infoHash, { port: 7402, left: 0, event: 'started' }),
      options,
    )
    expect(seen).toMatchObject({ seeders: 1, leechers: 1 })
    expect(seen.peers).toContainEqual({ host: '127.0.0.1', port: 7401 })
    const back = await leecher.announce(url, params(infoHash, { port: 7401 }), options)
    expect(back.peers).toContainEqual({ host: '127.0.0.1', port: 7402 })
  })

  it('scrapes several info hashes in order, unknown ones as zeros', async () => {
    const infoHash = takeHash()
    const udp = client()
    await udp.announce(url, params(infoHash, { left: 0, event: 'started' }), options)
    const unknown = randomBytes(20)
    expect(await udp.scrape(url, [unknown, infoHash], options)).toEqual([
      { infoHash: new Uint8Array(unknown), seeders: 0, completed: 0, leechers: 0 },
      { infoHash: new Uint8Array(infoHash), seeders: 1, completed: 0, leechers: 0 },
    ])
  })

  it('reports its bodiless answer for a non-whitelisted torrent as a protocol error', async () => {
    // opentracker answers with a bare 8-byte announce header: no interval, no counts, no peers.
    const error = await client()
      .announce(url, params(randomBytes(20)), options)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UdpTrackerProtocolError)
    expect(error).toMatchObject({ url, reason: 'announce response of 8 bytes (needs 20)' })
  })
})

// Interop with the `bittorrent-tracker` npm server's UDP endpoints (IPv4 and IPv6) on loopback.
import { randomBytes } from 'node:crypto'
import { freeTcpAndUdpPort } from '@bt/test-helpers'
import Server, { type ServerOptions } from 'bittorrent-tracker/server'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type AnnounceParams,
  createUdpTrackerClient,
  type UdpTrackerClient,
  UdpTrackerErrorResponse,
} from '../src/index.js'
import { startUdpRelay } from './udp-relay.js'

const CONNECT = 0
const ANNOUNCE = 1
const PROTOCOL_ID = 0x41727101980n

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

interface RunningTracker {
  udp4: string
  udp6: string
}

async function startTracker(
  options: { filter?: ServerOptions['filter']; port?: number } = {},
): Promise<RunningTracker> {
  const server = new Server({
    http: false,
    udp: true,
    ws: false,
    stats: false,
    interval: 120_000,
    filter: options.filter,
  })
  // Rejected requests are reported as warnings; the client sees them as error actions.
  server.on('warning', () => {})
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, { udp: '127.0.0.1', udp6: '::1' }, resolve),
  )
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {
    udp4: `udp://127.0.0.1:${server.udp4!.address().port}`,
    udp6: `udp://[::1]:${server.udp6!.address().port}`,
  }
}

function client(): UdpTrackerClient {
  const created = createUdpTrackerClient({ retransmitBaseMs: 500, maxRetransmits: 3 })
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

describe('bittorrent-tracker over UDP', () => {
  it('announces, re-announces on the cached connection id, scrapes and stops', async () => {
    const tracker = await startTracker()
    const relay = await startUdpRelay({ address: '127.0.0.1', port: Number(new URL(tracker.udp4).port) })
    cleanups.push(() => relay.close())
    const udp = client()
    const infoHash = randomBytes(20)
    const other = randomBytes(20)
    const me = params(infoHash, { port: 7001 })
    const url = relay.url('/announce?passkey=s3cret')

    const first = await udp.announce(url, { ...me, event: 'started' }, options)
    expect(first).toMatchObject({ interval: 120, leechers: 1, seeders: 0 })
    expect(first.peers).toContainEqual({ host: '127.0.0.1', port: 7001 })

    await udp.announce(url, me, options)
    expect(relay.requests.map((r) => r.action)).toEqual([CONNECT, ANNOUNCE, ANNOUNCE])
    // bittorrent-tracker hands out the protocol id as connection id; one connect for two announces is the reuse.
    expect(relay.requests[1]!.connectionId).toBe(PROTOCOL_ID)
    expect(relay.requests[2]!.connectionId).toBe(PROTOCOL_ID)
    // BEP 41: the path and query travel after the 98-byte announce.
    const urlData = '/announce?passkey=s3cret'
    expect(Array.from(relay.requests[1]!.bytes.subarray(98))).toEqual([
      2,
      urlData.length,
      ...Buffer.from(urlData),
    ])

    expect(await udp.scrape(url, [infoHash, other], options)).toEqual([
      { infoHash: new Uint8Array(infoHash), seeders: 0, completed: 0, leechers: 1 },
      { infoHash: new Uint8Array(other), seeders: 0, completed: 0, leechers: 0 },
    ])

    await udp.announce(url, { ...me, event: 'stopped' }, options)
    expect(await udp.scrape(url, [infoHash], options)).toMatchObject([{ seeders: 0, leechers: 0 }])
    expect(relay.requests.filter((r) => r.action === CONNECT)).toHaveLength(1)
  })

  it('lets two clients see each other', async () => {
    const tracker = await startTracker()
    const infoHash = randomBytes(20)
    const leecher = client()
    const seeder = client()
    await leecher.announce(tracker.udp4, params(infoHash, { port: 7101, event: 'started' }), options)
    const seen = await seeder.announce(
      tracker.udp4,
      params(infoHash, { port: 7102, left: 0n, event: 'started' }),
      options,
    )
    expect(seen).toMatchObject({ seeders: 1, leechers: 1 })
    expect(seen.peers).toContainEqual({ host: '127.0.0.1', port: 7101 })
    const back = await leecher.announce(tracker.udp4, params(infoHash, { port: 7101 }), options)
    expect(back.peers).toContainEqual({ host: '127.0.0.1', port: 7102 })
  })

  it("surfaces the tracker's refusal as an error response with its message", async () => {
    const tracker = await startTracker({
      filter: (_infoHash, _params, callback) => callback(new Error('torrent not allowed here')),
    })
    const error = await client()
      .announce(tracker.udp4, params(randomBytes(20)), options)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UdpTrackerErrorResponse)
    expect(error).toMatchObject({ trackerMessage: 'torrent not allowed here', url: tracker.udp4 })
  })

  it('works over IPv6 at ::1', async () => {
    const tracker = await startTracker()
    const infoHash = randomBytes(20)
    const a = client()
    const b = client()
    const first = await a.announce(tracker.udp6, params(infoHash, { port: 7201, event: 'started' }), options)
    expect(first).toMatchObject({ interval: 120, leechers: 1, seeders: 0 })
    const second = await b.announce(
      tracker.udp6,
      params(infoHash, { port: 7202, left: 0, event: 'started' }),
      options,
    )
    expect(second).toMatchObject({ leechers: 1, seeders: 1 })
    // bittorrent-tracker puts only IPv4 peers in UDP answers (its IPv6 peers go to `peers6`, which UDP
    // never sends), so an all-IPv6 swarm comes back with no peer entries at all.
    expect(second.peers).toEqual([])
    expect(await a.scrape(tracker.udp6, [infoHash], options)).toMatchObject([{ seeders: 1, leechers: 1 }])
  })

  it('resolves a host name with dns.lookup and uses the socket of its family', async () => {
    const port = await freeTcpAndUdpPort()
    // The same port on 127.0.0.1 and ::1, so `localhost` works whichever family it resolves to.
    await startTracker({ port })
    const infoHash = randomBytes(20)
    const response = await client().announce(`udp://localhost:${port}/announce`, params(infoHash), options)
    expect(response).toMatchObject({ interval: 120, leechers: 1 })
  })
})

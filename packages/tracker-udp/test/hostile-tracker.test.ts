// The client against a tracker that lies, stutters and stays silent: every failure must come back as a
// typed error within the configured schedule, and the client must stay usable afterwards.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type AnnounceParams,
  createUdpTrackerClient,
  type UdpTrackerClient,
  type UdpTrackerClientInit,
  UdpTrackerClosedError,
  UdpTrackerErrorResponse,
  UdpTrackerProtocolError,
  UdpTrackerTimeoutError,
} from '../src/index.js'
import {
  announceResponse,
  connectResponse,
  errorResponse,
  type HostileTracker,
  politeResponder,
  type ReceivedRequest,
  type Reply,
  scrapeResponse,
  startHostileTracker,
} from './hostile-tracker.js'

const CONNECT = 0
const ANNOUNCE = 1
const SCRAPE = 2

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

async function tracker(address?: string): Promise<HostileTracker> {
  const started = await startHostileTracker(address)
  cleanups.push(() => started.close())
  return started
}

function client(init: UdpTrackerClientInit = {}): UdpTrackerClient {
  const created = createUdpTrackerClient({ retransmitBaseMs: 50, maxRetransmits: 2, ...init })
  cleanups.push(() => created.close())
  return created
}

function params(overrides: Partial<AnnounceParams> = {}): AnnounceParams {
  return {
    infoHash: randomBytes(20),
    peerId: randomBytes(20),
    port: 6881,
    uploaded: 0,
    downloaded: 0,
    left: 1000,
    ...overrides,
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('a well-behaved scripted tracker', () => {
  it('connects once, then announces with the connection id it was given', async () => {
    const server = await tracker()
    const peers = Uint8Array.from([127, 0, 0, 1, 0x1a, 0xe1, 10, 1, 2, 3, 0, 80])
    server.respond = politeResponder({ peers })
    const udp = client()
    const response = await udp.announce(server.url('/announce'), params({ event: 'started' }))
    expect(response).toEqual({
      interval: 900,
      leechers: 2,
      seeders: 3,
      peers: [
        { host: '127.0.0.1', port: 6881 },
        { host: '10.1.2.3', port: 80 },
      ],
    })
    await udp.announce(server.url('/announce'), params())
    expect(server.requests.map((r) => r.action)).toEqual([CONNECT, ANNOUNCE, ANNOUNCE])
    expect(server.requests[0]!.connectionId).toBe(0x41727101980n)
    expect(server.requests[1]!.connectionId).toBe(0x1000n)
    expect(server.requests[2]!.connectionId).toBe(0x1000n)
  })

  it('shares one connect between concurrent requests to the same tracker', async () => {
    const server = await tracker()
    server.respond = politeResponder()
    const udp = client()
    await Promise.all(Array.from({ length: 5 }, () => udp.announce(server.url(), params())))
    expect(server.requests.filter((r) => r.action === CONNECT)).toHaveLength(1)
    expect(server.requests.filter((r) => r.action === ANNOUNCE)).toHaveLength(5)
    expect(new Set(server.requests.map((r) => r.transactionId)).size).toBe(6)
  })

  it('connects again once the connection id has expired', async () => {
    const server = await tracker()
    server.respond = politeResponder()
    const udp = client({ connectionIdTtlMs: 500 })
    await udp.announce(server.url(), params())
    await udp.announce(server.url(), params())
    await delay(550)
    await udp.announce(server.url(), params())
    expect(server.requests.map((r) => r.action)).toEqual([CONNECT, ANNOUNCE, ANNOUNCE, CONNECT, ANNOUNCE])
    expect(server.requests[4]!.connectionId).toBe(0x1001n)
  })

  it('sends the BEP 41 URL data after the announce', async () => {
    const server = await tracker()
    server.respond = politeResponder()
    const passkey = 'p'.repeat(300)
    await client().announce(server.url(`/announce?passkey=${passkey}`), params())
    const announce = server.requests.find((r) => r.action === ANNOUNCE)!
    const options = announce.bytes.subarray(98)
    const urlData = `/announce?passkey=${passkey}`
    expect([options[0], options[1], options[257], options[258]]).toEqual([2, 255, 2, urlData.length - 255])
    expect(Buffer.concat([options.subarray(2, 257), options.subarray(259)]).toString()).toBe(urlData)
  })

  it('encodes the announce fields, 64-bit counters included', async () => {
    const server = await tracker()
    server.respond = politeResponder()
    const infoHash = randomBytes(20)
    const peerId = randomBytes(20)
    await client().announce(
      server.url(),
      params({
        infoHash,
        peerId,
        port: 51413,
        uploaded: 2n ** 63n,
        downloaded: 5,
        left: 2 ** 40,
        event: 'stopped',
        numwant: 30,
        key: 0xcafe,
        ip: '10.0.0.7',
      }),
    )
    const bytes = server.requests.find((r) => r.action === ANNOUNCE)!.bytes
    expect(bytes.subarray(16, 36)).toEqual(infoHash)
    expect(bytes.subarray(36, 56)).toEqual(peerId)
    expect(bytes.readBigUInt64BE(56)).toBe(5n)
    expect(bytes.readBigUInt64BE(64)).toBe(2n ** 40n)
    expect(bytes.readBigUInt64BE(72)).toBe(2n ** 63n)
    expect([
      bytes.readUInt32BE(80),
      bytes.readUInt32BE(84),
      bytes.readUInt32BE(88),
      bytes.readInt32BE(92),
    ]).toEqual([3, 0x0a000007, 0xcafe, 30])
    expect(bytes.readUInt16BE(96)).toBe(51413)
  })

  it('splits a scrape of more than 74 info hashes and keeps their order', async () => {
    const server = await tracker()
    server.respond = politeResponder()
    const hashes = Array.from({ length: 100 }, () => randomBytes(20))
    const results = await client().scrape(server.url(), hashes)
    const scrapes = server.requests.filter((r) => r.action === SCRAPE)
    expect(scrapes.map((r) => (r.bytes.length - 16) / 20).sort()).toEqual([26, 74])
    expect(results).toHaveLength(100)
    results.forEach((result, i) => {
      expect(result.infoHash).toEqual(new Uint8Array(hashes[i]!))
      expect(result.completed - 1000).toBe(i % 74)
    })
  })

  it('reads 18-byte peer entries from an IPv6 tracker', async () => {
    const server = await tracker('::1')
    const peer = Buffer.alloc(18)
    peer[15] = 1
    peer.writeUInt16BE(6881, 16)
    server.respond = politeResponder({ peers: peer })
    const response = await client().announce(server.url('/announce'), params())
    expect(response.peers).toEqual([{ host: '::1', port: 6881 }])
  })
})

describe('a hostile tracker', () => {
  it('surfaces the error action to a connect with the tracker message', async () => {
    const server = await tracker()
    server.respond = (request, reply) => reply(errorResponse(request.transactionId, 'go away'))
    const error = await rejection(client().announce(server.url(), params()))
    expect(error).toBeInstanceOf(UdpTrackerErrorResponse)
    expect(error).toMatchObject({
      name: 'UdpTrackerErrorResponse',
      trackerMessage: 'go away',
      url: server.url(),
    })
  })

  it('surfaces the error action to an announce and connects afresh next time', async () => {
    const server = await tracker()
    const polite = politeResponder()
    let refusals = 1
    server.respond = (request, reply) => {
      if (request.action === ANNOUNCE && refusals-- > 0)
        reply(errorResponse(request.transactionId, 'unregistered torrent'))
      else polite(request, reply)
    }
    const udp = client()
    const error = await rejection(udp.announce(server.url(), params()))
    expect(error).toMatchObject({ name: 'UdpTrackerErrorResponse', trackerMessage: 'unregistered torrent' })
    await udp.announce(server.url(), params())
    expect(server.requests.map((r) => r.action)).toEqual([CONNECT, ANNOUNCE, CONNECT, ANNOUNCE])
  })

  it('retransmits on the 50·2^n ms schedule with one transaction id, then times out', async () => {
    const server = await tracker()
    const started = performance.now()
    const error = await rejection(client({ maxRetransmits: 3 }).announce(server.url(), params()))
    const elapsed = performance.now() - started
    expect(error).toBeInstanceOf(UdpTrackerTimeoutError)
    expect(error).toMatchObject({ name: 'UdpTrackerTimeoutError', attempts: 4, timeoutMs: undefined })
    expect(server.requests.map((r) => r.action)).toEqual([CONNECT, CONNECT, CONNECT, CONNECT])
    expect(new Set(server.requests.map((r) => r.transactionId)).size).toBe(1)
    // Send n leaves no earlier than 50·(2^n − 1) ms after the call (timers never fire early); measured
    // from the call rather than between receipts, which the first send's implicit bind skews.
    server.requests.forEach((request, n) => {
      const sentAfter = request.at - started
      // Node's millisecond timer clock may fire a timer up to 1 ms early.
      expect(sentAfter).toBeGreaterThanOrEqual(50 * (2 ** n - 1) - n - 1)
      // Only catches a runaway schedule: timers on a loaded machine fire late.
      expect(sentAfter).toBeLessThan(50 * (2 ** n - 1) + 500)
    })
    expect(elapsed).toBeGreaterThanOrEqual(50 * (2 ** 4 - 1) - 5)
    expect(elapsed).toBeLessThan(50 * (2 ** 4 - 1) + 2000)
  })

  it('ends at timeoutMs even when the schedule would wait longer', async () => {
    const server = await tracker()
    const started = performance.now()
    const udp = client({ retransmitBaseMs: 10_000 })
    const error = await rejection(udp.announce(server.url(), params(), { timeoutMs: 200 }))
    expect(error).toMatchObject({ name: 'UdpTrackerTimeoutError', timeoutMs: 200, attempts: 1 })
    expect(performance.now() - started).toBeLessThan(1500)
    expect(server.requests).toHaveLength(1)
  })

  it('ignores garbage, short datagrams and wrong transaction ids, then takes the real answer', async () => {
    const server = await tracker()
    const polite = politeResponder()
    server.respond = (request, reply) => {
      reply(new Uint8Array(0))
      reply(Uint8Array.from([0, 0, 0]))
      for (let i = 0; i < 50; i++) reply(randomBytes(1 + (i % 40) * 13))
      reply(connectResponse((request.transactionId ^ 1) >>> 0, 0xbadn))
      reply(announceResponse((request.transactionId + 1) >>> 0, { interval: 1, leechers: 66, seeders: 66 }))
      polite(request, reply)
    }
    const response = await client().announce(server.url(), params())
    expect(response).toMatchObject({ interval: 900, leechers: 2, seeders: 3 })
    expect(server.requests[1]!.connectionId).toBe(0x1000n)
  })

  it('times out when every answer carries the wrong transaction id', async () => {
    const server = await tracker()
    server.respond = (request, reply) => reply(connectResponse((request.transactionId + 1) >>> 0, 1n))
    const error = await rejection(client().announce(server.url(), params()))
    expect(error).toMatchObject({ name: 'UdpTrackerTimeoutError', attempts: 3 })
    expect(server.requests).toHaveLength(3)
  })

  it('ignores answers from another port or another address', async () => {
    const server = await tracker()
    const otherPort = await server.otherSocket()
    const otherAddress = await server.otherSocket('127.0.0.2')
    const polite = politeResponder()
    server.respond = (request, reply) => {
      if (request.action === ANNOUNCE) {
        const forged = announceResponse(request.transactionId, { interval: 1, leechers: 99, seeders: 99 })
        reply(forged, otherPort)
        reply(forged, otherAddress)
        if (request.bytes.readUInt32BE(80) === 3) return // stopped: only forged answers
      }
      polite(request, reply)
    }
    const udp = client()
    expect(await udp.announce(server.url(), params())).toMatchObject({ leechers: 2, seeders: 3 })
    const error = await rejection(udp.announce(server.url(), params({ event: 'stopped' })))
    expect(error).toMatchObject({ name: 'UdpTrackerTimeoutError', attempts: 3 })
  })

  it('accepts a slow answer to the first send after it retransmitted', async () => {
    const server = await tracker()
    const polite = politeResponder()
    let firstConnect: { request: ReceivedRequest; reply: Reply } | undefined
    server.respond = (request, reply) => {
      if (request.action !== CONNECT) polite(request, reply)
      // Answer the first send only once its retransmission has arrived: the answer is late by definition.
      else if (firstConnect === undefined) firstConnect = { request, reply }
      else polite(firstConnect.request, firstConnect.reply)
    }
    const response = await client().announce(server.url(), params())
    expect(response.seeders).toBe(3)
    const connects = server.requests.filter((r) => r.action === CONNECT)
    expect(connects).toHaveLength(2)
    expect(connects[0]!.transactionId).toBe(connects[1]!.transactionId)
    expect(server.requests.find((r) => r.action === ANNOUNCE)!.connectionId).toBe(0x1000n)
  })

  it('connects again when the connection id expires between retransmissions', async () => {
    const server = await tracker()
    const polite = politeResponder()
    let announces = 0
    server.respond = (request, reply) => {
      if (request.action === ANNOUNCE && announces++ === 0) return
      polite(request, reply)
    }
    await client({ connectionIdTtlMs: 20 }).announce(server.url(), params())
    expect(server.requests.map((r) => r.action)).toEqual([CONNECT, ANNOUNCE, CONNECT, ANNOUNCE])
    expect(server.requests[1]!.transactionId).toBe(server.requests[3]!.transactionId)
    expect([server.requests[1]!.connectionId, server.requests[3]!.connectionId]).toEqual([0x1000n, 0x1001n])
  })

  it.each([
    ['a truncated connect answer', (tid: number) => connectResponse(tid, 1n).subarray(0, 12), CONNECT],
    [
      'a truncated announce answer',
      (tid: number) => announceResponse(tid, { interval: 1, leechers: 1, seeders: 1 }).subarray(0, 19),
      ANNOUNCE,
    ],
    [
      'a partial peer entry',
      (tid: number) =>
        announceResponse(tid, { interval: 1, leechers: 1, seeders: 1, peers: new Uint8Array(7) }),
      ANNOUNCE,
    ],
    [
      'an unknown action',
      (tid: number) =>
        Buffer.from([0, 0, 0, 9, tid >>> 24, (tid >>> 16) & 255, (tid >>> 8) & 255, tid & 255]),
      CONNECT,
    ],
    ['a scrape answer to an announce', (tid: number) => scrapeResponse(tid, []), ANNOUNCE],
  ])('rejects %s with a protocol error', async (_name, answer, when) => {
    const server = await tracker()
    const polite = politeResponder()
    server.respond = (request, reply) => {
      if (request.action === when) reply(answer(request.transactionId))
      else polite(request, reply)
    }
    const error = await rejection(client().announce(server.url(), params()))
    expect(error).toBeInstanceOf(UdpTrackerProtocolError)
    expect(error).toMatchObject({ name: 'UdpTrackerProtocolError', url: server.url() })
  })

  it('rejects a scrape answer with fewer entries than info hashes', async () => {
    const server = await tracker()
    const polite = politeResponder()
    server.respond = (request, reply) => {
      if (request.action === SCRAPE)
        reply(scrapeResponse(request.transactionId, [{ seeders: 1, completed: 1, leechers: 1 }]))
      else polite(request, reply)
    }
    const error = await rejection(client().scrape(server.url(), [randomBytes(20), randomBytes(20)]))
    expect(error).toMatchObject({ name: 'UdpTrackerProtocolError' })
  })

  it('stops at once when the caller aborts, and sends nothing more', async () => {
    const server = await tracker()
    const controller = new AbortController()
    const udp = client({ retransmitBaseMs: 40, maxRetransmits: 8 })
    const pending = rejection(udp.announce(server.url(), params(), { signal: controller.signal }))
    await delay(60)
    controller.abort(new Error('user gave up'))
    expect(await pending).toMatchObject({ message: 'user gave up' })
    const sent = server.requests.length
    await delay(200)
    expect(server.requests).toHaveLength(sent)
    expect(
      await rejection(udp.announce(server.url(), params(), { signal: controller.signal })),
    ).toMatchObject({
      message: 'user gave up',
    })
  })

  it('rejects pending and later requests with a typed error on close()', async () => {
    const server = await tracker()
    const udp = client({ retransmitBaseMs: 40, maxRetransmits: 8 })
    const pending = rejection(udp.announce(server.url(), params()))
    const pendingScrape = rejection(udp.scrape(server.url(), [randomBytes(20)]))
    await delay(20)
    await udp.close()
    for (const error of [await pending, await pendingScrape]) {
      expect(error).toBeInstanceOf(UdpTrackerClosedError)
      expect(error).toMatchObject({ name: 'UdpTrackerClosedError', url: server.url() })
    }
    expect(await rejection(udp.announce(server.url(), params()))).toBeInstanceOf(UdpTrackerClosedError)
  })

  it('stays usable after all of the above on one client', async () => {
    const server = await tracker()
    const udp = client()
    server.respond = (request, reply) => {
      reply(randomBytes(8))
      reply(errorResponse(request.transactionId, 'nope'))
    }
    expect(await rejection(udp.announce(server.url(), params()))).toBeInstanceOf(UdpTrackerErrorResponse)
    server.respond = () => {}
    expect(await rejection(udp.announce(server.url(), params()))).toBeInstanceOf(UdpTrackerTimeoutError)
    server.respond = politeResponder()
    expect((await udp.announce(server.url(), params())).seeders).toBe(3)
  })
})

describe('invalid input', () => {
  it('rejects a non-UDP or port-less URL without sending anything', async () => {
    const udp = client()
    for (const url of ['http://127.0.0.1:1/announce', 'udp://127.0.0.1/announce']) {
      expect(await rejection(udp.announce(url, params()))).toMatchObject({
        name: 'InvalidTrackerUrlError',
        url,
      })
    }
  })

  it('rejects malformed announce parameters as programming errors', async () => {
    const server = await tracker()
    const udp = client()
    expect(
      await rejection(udp.announce(server.url(), params({ infoHash: new Uint8Array(19) }))),
    ).toBeInstanceOf(TypeError)
    expect(await rejection(udp.announce(server.url(), params({ left: -1 })))).toBeInstanceOf(RangeError)
    expect(await rejection(udp.announce(server.url(), params({ port: 70000 })))).toBeInstanceOf(RangeError)
    expect(await rejection(udp.announce(server.url(), params({ ip: '::1' })))).toBeInstanceOf(RangeError)
    expect(server.requests).toHaveLength(0)
  })
})

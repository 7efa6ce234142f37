// Our uTP against our uTP on loopback: big transfers both ways, many connections, backpressure,
// FIN/RESET, refused and unanswered connects, a hostile sender, and a DHT sharing the port.
import { createHash, randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createUtpSocket,
  UtpArgumentError,
  UtpConnectionRefusedError,
  UtpConnectionResetError,
  UtpConnectTimeoutError,
  type UtpSocket,
} from '../src/index.js'
import {
  connectPair,
  hashStream,
  sha1,
  socketPair,
  withTimeout,
  writeAll,
  writeGenerated,
} from './helpers.js'

const A = '127.0.50.1'
const B = '127.0.50.2'
const C = '127.0.50.3'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function pair(init = {}) {
  const p = await socketPair(A, B, init)
  cleanups.push(p.close)
  return p
}

describe('uTP over loopback', () => {
  it('moves 96 MiB each way at once on one connection, byte for byte, wrapping both sequence spaces', async () => {
    const { a, b } = await pair()
    const [client, server] = await connectPair(a, b)
    // 96 MiB is over 65 536 packets of 1400 bytes: both 16-bit sequence spaces wrap whatever their start.
    const total = 96 << 20
    const [atServer, atClient, upSha1, downSha1] = await withTimeout(
      Promise.all([
        hashStream(server),
        hashStream(client),
        writeGenerated(client, total, 'up'),
        writeGenerated(server, total, 'down'),
      ]),
      90_000,
      '96 MiB both ways',
    )
    expect(atServer).toEqual({ bytes: total, sha1: upSha1 })
    expect(atClient).toEqual({ bytes: total, sha1: downSha1 })
    expect(client.stats().packetsSent).toBeGreaterThan(65_536)
    expect(server.stats().packetsSent).toBeGreaterThan(65_536)
  }, 120_000)

  it("lets a writer reuse its buffer once write's callback ran (the bytes are in packets by then)", async () => {
    const { a, b } = await pair()
    const [client, server] = await connectPair(a, b)
    const block = 16 * 1024 + 7
    const count = 600
    const received = hashStream(server)
    const expected = createHash('sha1')
    const reused = Buffer.alloc(block)
    for (let i = 0; i < count; i++) {
      reused.fill(i & 0xff)
      expected.update(reused)
      await new Promise<void>((resolve, reject) =>
        client.write(reused, (error) => (error ? reject(error) : resolve())),
      )
    }
    client.end()
    expect(await withTimeout(received, 20_000, 'reused-buffer transfer')).toEqual({
      bytes: block * count,
      sha1: expected.digest('hex'),
    })
  })

  it('works over IPv6 (::1, udp6 sockets)', async () => {
    const a = await createUtpSocket({ type: 'udp6', host: '::1' })
    const b = await createUtpSocket({ type: 'udp6', host: '::1' })
    cleanups.push(async () => void (await Promise.all([a.close(), b.close()])))
    const [client, server] = await connectPair(a, b)
    expect([client.remoteFamily, server.remoteFamily, server.remoteAddress]).toEqual(['IPv6', 'IPv6', '::1'])
    const data = randomBytes(4 << 20)
    const [got] = await withTimeout(Promise.all([hashStream(server), writeAll(client, data)]), 20_000, 'IPv6')
    expect(got).toEqual({ bytes: data.length, sha1: sha1(data) })
    await expect(a.connect(b.address().port, '127.0.0.1')).rejects.toBeInstanceOf(UtpArgumentError)
  })

  it('runs 40 connections at once between two sockets', async () => {
    const { a, b } = await pair()
    b.on('connection', (connection) => connection.pipe(connection))
    const results = await withTimeout(
      Promise.all(
        Array.from({ length: 40 }, async () => {
          const data = randomBytes(300_000)
          const connection = await a.connect(b.address().port, B)
          const [echoed] = await Promise.all([hashStream(connection), writeAll(connection, data, 10_000)])
          return echoed.sha1 === sha1(data) && echoed.bytes === data.length
        }),
      ),
      60_000,
      '40 echo connections',
    )
    expect(results.every(Boolean)).toBe(true)
  }, 90_000)

  it('a slow reader holds the sender back through the receive window, with bounded memory', async () => {
    const receiveWindow = 256 * 1024
    const { a, b } = await pair({ receiveWindow })
    const [client, server] = await connectPair(a, b)
    server.pause()
    const data = randomBytes(16 << 20)
    const writing = writeAll(client, data)
    let maxBuffered = 0
    let maxQueued = 0
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      maxBuffered = Math.max(maxBuffered, server.stats().receiveBuffered)
      maxQueued = Math.max(maxQueued, client.stats().sendQueued + client.writableLength)
    }
    // Paused for a second: the peer filled our window and stopped; nothing grew past it.
    expect(maxBuffered).toBeGreaterThan(receiveWindow / 2)
    expect(maxBuffered).toBeLessThanOrEqual(receiveWindow + 16 * 1400)
    expect(maxQueued).toBeLessThan(2 << 20)
    const received = hashStream(server)
    server.resume()
    await withTimeout(writing, 30_000, 'writing after resume')
    expect(await withTimeout(received, 30_000, 'reading after resume')).toEqual({
      bytes: data.length,
      sha1: sha1(data),
    })
  }, 60_000)

  it('half-closes: the side that ends first still receives the answer', async () => {
    const { a, b } = await pair()
    b.on('connection', async (connection) => {
      const got = await hashStream(connection)
      connection.end(`got ${got.bytes}`)
    })
    const client = await a.connect(b.address().port, B)
    client.end(Buffer.alloc(5000, 1))
    const chunks: Buffer[] = []
    client.on('data', (chunk: Buffer) => chunks.push(chunk))
    await withTimeout(new Promise((resolve) => client.once('close', resolve)), 10_000, 'clean close')
    expect(Buffer.concat(chunks).toString()).toBe('got 5000')
    expect(client.destroyed).toBe(true)
    // Lingering for a retransmitted FIN, then forgotten.
    await withTimeout(
      (async () => {
        while (a.connectionCount + b.connectionCount > 0) await new Promise((r) => setTimeout(r, 100))
      })(),
      8000,
      'forgetting closed connections',
    )
  })

  it('destroy() resets the peer, which sees a typed error', async () => {
    const { a, b } = await pair()
    const [client, server] = await connectPair(a, b)
    const failed = new Promise<Error>((resolve) => client.once('error', resolve))
    client.resume()
    server.destroy()
    const error = await withTimeout(failed, 5000, 'reset')
    expect(error).toBeInstanceOf(UtpConnectionResetError)
    expect(error.name).toBe('UtpConnectionResetError')
  })

  it('a reader that destroys its stream from a data handler mid-transfer fails only that connection', async () => {
    const { a, b } = await pair()
    const [client, server] = await connectPair(a, b)
    let chunks = 0
    server.on('data', () => {
      if (++chunks === 50) server.destroy()
    })
    const failed = new Promise<Error>((resolve) => client.once('error', resolve))
    client.write(randomBytes(8 << 20))
    expect(await withTimeout(failed, 5000, 'reset after destroy')).toBeInstanceOf(UtpConnectionResetError)
    // The sockets still work.
    const [again, accepted] = await connectPair(a, b)
    const data = randomBytes(100_000)
    const [got] = await Promise.all([hashStream(accepted), writeAll(again, data)])
    expect(got.sha1).toBe(sha1(data))
  })

  it('a socket that does not accept answers a SYN with RESET: connection refused', async () => {
    const { a, b } = await pair({ acceptIncoming: false })
    await expect(a.connect(b.address().port, B)).rejects.toBeInstanceOf(UtpConnectionRefusedError)
  })

  it('a closed port gives a connect timeout; an abort signal ends the wait early', async () => {
    const { a } = await pair()
    const silent = createSocket('udp4')
    await new Promise<void>((resolve) => silent.bind(0, C, resolve))
    cleanups.push(() => new Promise((resolve) => silent.close(() => resolve())))
    const port = silent.address().port
    const started = performance.now()
    await expect(a.connect(port, C, { timeoutMs: 1500 })).rejects.toBeInstanceOf(UtpConnectTimeoutError)
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400)
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('stop')), 100)
    await expect(a.connect(port, C, { signal: controller.signal })).rejects.toThrow('stop')
    expect(a.connectionCount).toBe(0)
  })

  it('an abort from inside async code (a microtask) fails the connect without an unhandled error', async () => {
    const { a } = await pair()
    const silent = createSocket('udp4')
    await new Promise<void>((resolve) => silent.bind(0, C, resolve))
    cleanups.push(() => new Promise((resolve) => silent.close(() => resolve())))
    const unhandled: unknown[] = []
    const onUncaught = (error: unknown) => unhandled.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      const controller = new AbortController()
      const connecting = a.connect(silent.address().port, C, { signal: controller.signal })
      const failed = expect(connecting).rejects.toThrow('stopped in a microtask')
      await new Promise((resolve) => setTimeout(resolve, 50))
      // Aborted from a promise continuation: the microtasks run before the stream's nextTick 'error'.
      await Promise.resolve().then(() => controller.abort(new Error('stopped in a microtask')))
      await failed
      await new Promise((resolve) => setTimeout(resolve, 50))
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    expect(unhandled).toEqual([])
    expect(a.connectionCount).toBe(0)
  })

  it('survives a hostile sender of garbage and forged uTP packets during a transfer', async () => {
    const { a, b } = await pair()
    const [client, server] = await connectPair(a, b)
    const hostile = createSocket('udp4')
    await new Promise<void>((resolve) => hostile.bind(0, C, resolve))
    cleanups.push(() => new Promise((resolve) => hostile.close(() => resolve())))
    let stop = false
    let sent = 0
    const flood = (async () => {
      for (let i = 0; !stop; i++) {
        const junk = randomBytes(1 + (i % 120))
        // Every fourth datagram a well-formed header with random fields, aimed at random ids.
        if (i % 4 === 0 && junk.length >= 20) junk[0] = (((i >> 2) % 5) << 4) | 1
        hostile.send(junk, b.address().port, B)
        hostile.send(junk, a.address().port, A)
        sent += 2
        // About 10 000 datagrams a second each way: hostile, yet not a flood that starves this process.
        if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 2))
      }
    })()
    const data = randomBytes(8 << 20)
    const [got] = await withTimeout(
      Promise.all([hashStream(server), writeAll(client, data)]),
      30_000,
      'transfer under garbage',
    ).finally(() => {
      stop = true
    })
    stop = true
    await flood
    expect(sent).toBeGreaterThan(1000)
    expect(got).toEqual({ bytes: data.length, sha1: sha1(data) })
  }, 60_000)

  it('shares its UDP port with a DHT: non-uTP datagrams go to onDatagram and to datagrams()', async () => {
    const seen: string[] = []
    const shared: UtpSocket = await createUtpSocket({
      host: A,
      onDatagram: (datagram) => seen.push(datagram.toString()),
    })
    cleanups.push(() => shared.close())
    const view = shared.datagrams()
    const viewed: string[] = []
    view.on('message', (datagram) => viewed.push(datagram.toString()))
    const dhtPeer = createSocket('udp4')
    await new Promise<void>((resolve) => dhtPeer.bind(0, C, resolve))
    cleanups.push(() => new Promise((resolve) => dhtPeer.close(() => resolve())))
    const answered = new Promise<string>((resolve) => dhtPeer.once('message', (m) => resolve(m.toString())))
    dhtPeer.send('d1:y1:qe', shared.address().port, A)
    await withTimeout(
      (async () => {
        while (viewed.length === 0) await new Promise((r) => setTimeout(r, 10))
      })(),
      2000,
      'datagram delivery',
    )
    view.send(Buffer.from('d1:y1:re'), dhtPeer.address().port, C)
    expect(await withTimeout(answered, 2000, 'answer')).toBe('d1:y1:re')
    expect(seen).toEqual(['d1:y1:qe'])
    expect(viewed).toEqual(['d1:y1:qe'])
    // …while uTP keeps working on the same port.
    const other = await createUtpSocket({ host: B })
    cleanups.push(() => other.close())
    const [client, server] = await connectPair(other, shared)
    const data = randomBytes(1 << 20)
    const [got] = await Promise.all([hashStream(server), writeAll(client, data)])
    expect(got.sha1).toBe(sha1(data))
    view.close()
  })

  it('rides on a dgram socket it does not own, fed by its owner', async () => {
    const udp = createSocket('udp4')
    await new Promise<void>((resolve) => udp.bind(0, A, resolve))
    cleanups.push(() => new Promise((resolve) => udp.close(() => resolve())))
    const own: string[] = []
    const utp = await createUtpSocket({ socket: udp, attach: false })
    udp.on('message', (datagram, remote) => {
      if (!utp.receive(datagram, remote)) own.push(datagram.toString())
    })
    cleanups.push(() => utp.close())
    const other = await createUtpSocket({ host: B })
    cleanups.push(() => other.close())
    const [client, server] = await connectPair(other, utp)
    const data = randomBytes(2 << 20)
    const [got] = await Promise.all([hashStream(client), writeAll(server, data)])
    expect(got.sha1).toBe(sha1(data))
    other.udp.send('d1:y1:qe', udp.address().port, A)
    await withTimeout(
      (async () => {
        while (own.length === 0) await new Promise((r) => setTimeout(r, 10))
      })(),
      2000,
      'own datagram',
    )
    expect(own).toEqual(['d1:y1:qe'])
  })
})

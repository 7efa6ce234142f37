import { type AddressInfo, createServer, type Socket } from 'node:net'
import { Bitfield } from '@bt/bitfield'
import { afterEach, describe, expect, it } from 'vitest'
import {
  acceptPeer,
  connectPeer,
  createExtensionRegistry,
  encodeHandshake,
  encodeMessage,
  HandshakeError,
  MessageDecoder,
  type PeerConnection,
  PeerConnectionError,
  PeerProtocolError,
  PeerTimeoutError,
  reservedBytes,
  type WireMessage,
} from '../src/index.js'
import {
  ByteSink,
  baseInit,
  closed,
  connectedPair,
  delay,
  INFO_HASH,
  type Listening,
  listen,
  nextMessage,
  peerId,
  record,
} from './loopback.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function pair(...args: Parameters<typeof connectedPair>) {
  const result = await connectedPair(...args)
  cleanups.push(result.close)
  return result
}

async function server(onSocket: (socket: Socket) => void): Promise<Listening> {
  const listening = await listen(onSocket)
  cleanups.push(listening.close)
  return listening
}

/** A raw peer: answers a handshake with `reserved` and hands the socket and its received bytes to the test. */
async function rawPeer(reserved = reservedBytes({ extended: true, fast: true }), id = peerId()) {
  let resolveSocket: (value: { socket: Socket; sink: ByteSink }) => void = () => {}
  const connected = new Promise<{ socket: Socket; sink: ByteSink }>((resolve) => {
    resolveSocket = resolve
  })
  const listening = await server((socket) => {
    const sink = new ByteSink(socket)
    socket.write(encodeHandshake({ reserved, infoHash: INFO_HASH, peerId: id }))
    resolveSocket({ socket, sink })
  })
  return { port: listening.port, connected }
}

/** Decodes the messages in `bytes` after the 68-byte handshake. */
function messagesAfterHandshake(bytes: Uint8Array, pieceCount?: number): WireMessage[] {
  const decoder = new MessageDecoder({ pieceCount })
  decoder.push(bytes.subarray(68))
  const messages: WireMessage[] = []
  for (let next = decoder.next(); next !== undefined; next = decoder.next()) messages.push(next)
  return messages
}

describe('two connections on loopback', () => {
  it('handshake: peer ids, negotiated extensions, extended handshakes both ways', async () => {
    const aInit = baseInit({ extendedHandshake: { version: 'BT test', listenPort: 6881 } })
    const bInit = baseInit({ peerId: peerId(), reserved: reservedBytes({ extended: true, dht: true }) })
    const { a, b } = await pair(aInit, bInit)
    expect(a.remotePeerId).toEqual(bInit.peerId)
    expect(b.remotePeerId).toEqual(aInit.peerId)
    expect(b.infoHash).toEqual(INFO_HASH)
    expect(a.direction).toBe('outgoing')
    expect(b.direction).toBe('incoming')
    expect(a.remoteExtensions).toEqual({ extended: true, fast: false, dht: true })
    expect(b.remoteExtensions).toEqual({ extended: true, fast: true, dht: false })
    expect(a.negotiated).toEqual({ extended: true, fast: false })
    const { handshake } = await nextMessage(b, 'extended-handshake')
    expect(handshake).toMatchObject({ v: 'BT test', p: 6881 })
    expect([...handshake.yourip!]).toEqual([127, 0, 0, 1])
    expect(b.extendedHandshake).toBe(handshake)
    expect(() => a.haveAll()).toThrow(expect.objectContaining({ name: 'ExtensionNotSupportedError' }))
  })

  it('tracks choke and interest state on both sides and carries requests and blocks', async () => {
    const { a, b } = await pair(baseInit(), baseInit())
    expect([a.amChoking, a.amInterested, a.peerChoking, a.peerInterested]).toEqual([true, false, true, false])
    const interested = nextMessage(b, 'interested')
    a.interested()
    await interested
    expect(a.amInterested).toBe(true)
    expect(b.peerInterested).toBe(true)
    const unchoked = nextMessage(a, 'unchoke')
    b.unchoke()
    await unchoked
    expect(a.peerChoking).toBe(false)
    expect(b.amChoking).toBe(false)

    const request = nextMessage(b, 'request')
    a.request(3, 16384, 16384)
    expect(await request).toEqual({ type: 'request', index: 3, begin: 16384, length: 16384 })
    const block = Uint8Array.from({ length: 16384 }, (_, i) => (i * 7) & 0xff)
    const piece = nextMessage(a, 'piece')
    b.piece(3, 16384, block)
    expect(await piece).toEqual({ type: 'piece', index: 3, begin: 16384, block })

    const notInterested = nextMessage(b, 'not-interested')
    a.notInterested()
    await notInterested
    expect(b.peerInterested).toBe(false)
    const choke = nextMessage(a, 'choke')
    b.choke()
    await choke
    expect(a.peerChoking).toBe(true)
  })

  it('keeps the peer pieces from bitfield, have and have-all', async () => {
    const { a, b } = await pair(baseInit(), baseInit())
    const bitfield = new Bitfield(10)
    bitfield.set(1)
    bitfield.set(9)
    const have = nextMessage(b, 'have')
    a.bitfield(bitfield)
    a.have(4)
    await have
    expect([...b.peerPieces!.indices()]).toEqual([1, 4, 9])
    const haveAll = nextMessage(a, 'have-all')
    b.haveAll()
    await haveAll
    expect(a.peerPieces!.complete).toBe(true)
  })

  it('routes extended messages by our local id to the registered extension', async () => {
    const received: [PeerConnection, Uint8Array][] = []
    const handshakes: string[] = []
    const extensions = createExtensionRegistry([
      { name: 'ut_pex' },
      {
        name: 'bt_echo',
        onHandshake: (connection, handshake) =>
          handshakes.push(`${connection.direction}:${handshake.m.get('bt_echo')}`),
        onMessage: (connection, payload) => received.push([connection, payload.slice()]),
      },
    ])
    // The dialling side lists bt_echo under another id: each side sends under the other's ids.
    const aExtensions = createExtensionRegistry([{ name: 'bt_echo' }])
    const { a, b } = await pair(baseInit({ extensions: aExtensions }), baseInit({ extensions }))
    await nextMessage(a, 'extended-handshake')
    expect(a.extendedHandshake!.m.get('bt_echo')).toBe(2)
    const message = nextMessage(b, 'extended')
    a.sendExtended('bt_echo', Uint8Array.of(1, 2, 3))
    expect(await message).toMatchObject({ id: 2, name: 'bt_echo', payload: Uint8Array.of(1, 2, 3) })
    expect(received).toEqual([[b, Uint8Array.of(1, 2, 3)]])
    expect(handshakes).toEqual(['incoming:1'])
    expect(() => a.sendExtended('ut_metadata', new Uint8Array())).toThrow(
      expect.objectContaining({ name: 'ExtensionNotSupportedError', extension: 'ut_metadata' }),
    )
  })

  it('sends keep-alives when idle and closes a silent peer after its idle timeout', async () => {
    const { a, b } = await pair(baseInit(), baseInit(), {
      a: { keepAliveIntervalMs: 40, idleTimeoutMs: 0 },
      b: { keepAliveIntervalMs: 0, idleTimeoutMs: 300 },
    })
    const messages = record(b)
    await delay(200)
    expect(messages.filter((message) => message.type === 'keep-alive').length).toBeGreaterThanOrEqual(2)
    expect(b.closed).toBe(false)
    // With a's keep-alives gone, b hears nothing: it times out, and a sees the peer close.
    a.cork()
    const reason = await closed(b)
    expect(reason).toBeInstanceOf(PeerTimeoutError)
    expect(reason).toMatchObject({ phase: 'idle', timeoutMs: 300 })
    expect(await closed(a)).toMatchObject({ name: 'PeerConnectionError', closedByPeer: true })
  })

  it('respects backpressure both ways: a paused reader fills the writer, drain resumes it', async () => {
    const { a, b } = await pair(baseInit(), baseInit())
    const received: number[] = []
    b.on('message', (message) => {
      if (message.type === 'piece') received.push(message.block.length)
    })
    b.pause()
    expect(b.isPaused).toBe(true)
    const block = new Uint8Array(16384).fill(7)
    let sent = 0
    // Until the kernel's buffers are full too: a write returns false and no drain follows.
    for (;;) {
      while (a.piece(0, 0, block)) sent++
      sent++
      const drained = await Promise.race([a.waitForDrain().then(() => true), delay(200).then(() => false)])
      if (!drained) break
      if (sent > 50_000) throw new Error('the socket never pushed back')
    }
    expect(a.writableNeedDrain).toBe(true)
    expect(received.length).toBe(0)
    const drained = a.waitForDrain()
    b.resume()
    await drained
    while (received.length < sent) await delay(10)
    expect(received.length).toBe(sent)
    expect(received.every((length) => length === 16384)).toBe(true)
  })

  it("tells when a sent block's memory is free again: written, or dropped by a close", async () => {
    const { a, b } = await pair(baseInit(), baseInit())
    const received: number[] = []
    b.on('message', (message) => {
      if (message.type === 'piece') received.push(message.begin)
    })
    const written: number[] = []
    const block = new Uint8Array(16384).fill(3)
    a.piece(0, 0, block, () => written.push(0))
    a.cork()
    a.piece(0, 16384, block, () => written.push(1))
    a.have(1)
    a.piece(0, 32768, block, () => written.push(2))
    expect(written).toEqual([])
    a.uncork()
    while (written.length < 3) await delay(5)
    expect(written).toEqual([0, 1, 2])
    while (received.length < 3) await delay(5)
    expect(received).toEqual([0, 16384, 32768])

    // Blocks still queued (the reader is paused, so the socket backs up) or still corked when the
    // connection closes are never sent: their callbacks still come, exactly once each.
    b.pause()
    let queued = 0
    const calls = new Map<number, number>()
    const track = (id: number) => () => calls.set(id, (calls.get(id) ?? 0) + 1)
    while (a.writableLength === 0) {
      a.piece(1, 0, block, track(queued++))
      if (queued > 50_000) throw new Error('the socket never pushed back')
    }
    for (let extra = 0; extra < 8; extra++) a.piece(1, 0, block, track(queued++))
    a.cork()
    a.piece(1, 0, block, track(queued++))
    expect(a.writableLength).toBeGreaterThan(0)
    a.close()
    a.piece(1, 0, block, track(queued++))
    while (calls.size < queued) await delay(5)
    await delay(20)
    expect([...calls.values()].every((count) => count === 1)).toBe(true)
    expect(calls.size).toBe(queued)
  })

  it('closes exactly once, with undefined for a local close and a typed error on the other side', async () => {
    const { a, b } = await pair(baseInit(), baseInit())
    const aReasons: (Error | undefined)[] = []
    a.on('close', (reason) => aReasons.push(reason))
    a.close()
    a.close(new Error('again'))
    expect(a.closed).toBe(true)
    const reason = await closed(b)
    expect(reason).toBeInstanceOf(PeerConnectionError)
    await delay(20)
    expect(aReasons).toEqual([undefined])
    expect(a.interested()).toBe(false)
  })

  it('rejects a connection to ourselves on both sides', async () => {
    const init = baseInit()
    let accepted: Promise<PeerConnection> | undefined
    const listening = await server((socket) => {
      accepted = acceptPeer(socket, { findTorrent: () => init })
      accepted.catch(() => {})
    })
    const dial = connectPeer({ host: '127.0.0.1', port: listening.port }, init)
    await expect(dial).rejects.toMatchObject({ name: 'HandshakeError', reason: 'self-connection' })
    await expect(accepted).rejects.toMatchObject({ name: 'HandshakeError', reason: 'self-connection' })
  })

  it('drops an incoming peer asking for an unknown torrent', async () => {
    let accepted: Promise<PeerConnection> | undefined
    const listening = await server((socket) => {
      accepted = acceptPeer(socket, { findTorrent: async () => undefined })
      accepted.catch(() => {})
    })
    const dial = connectPeer({ host: '127.0.0.1', port: listening.port }, baseInit())
    await expect(dial).rejects.toBeInstanceOf(PeerConnectionError)
    await expect(accepted).rejects.toMatchObject({ name: 'HandshakeError', reason: 'unknown-torrent' })
  })

  it('accepts after an async torrent lookup', async () => {
    const bInit = baseInit()
    let accepted: Promise<PeerConnection> | undefined
    const listening = await server((socket) => {
      accepted = acceptPeer(socket, {
        findTorrent: async (infoHash) => {
          await delay(20)
          return Buffer.from(infoHash).equals(INFO_HASH) ? bInit : undefined
        },
      })
    })
    const a = await connectPeer({ host: '127.0.0.1', port: listening.port }, baseInit())
    const b = await accepted!
    cleanups.push(() => a.close())
    cleanups.push(() => b.close())
    expect(a.remotePeerId).toEqual(bInit.peerId)
    expect(b.remotePeerId).toEqual(a.peerId)
  })

  it('dials from the given localAddress (all of 127.0.0.0/8 reaches lo on Linux)', async () => {
    let accepted: Promise<PeerConnection> | undefined
    const listening = await server((socket) => {
      accepted = acceptPeer(socket, { findTorrent: () => baseInit() })
    })
    const a = await connectPeer({ host: '127.0.0.1', port: listening.port }, baseInit(), {
      localAddress: '127.0.0.5',
    })
    const b = await accepted!
    cleanups.push(() => a.close())
    cleanups.push(() => b.close())
    expect(b.remoteAddress.host).toBe('127.0.0.5')
    expect(a.remoteAddress).toEqual({ host: '127.0.0.1', port: listening.port })
  })

  it('names an IPv4 peer of a dual-stack listener by its IPv4 address, not ::ffff:a.b.c.d', async () => {
    let accepted: Promise<PeerConnection> | undefined
    const dualStack = createServer((socket) => {
      accepted = acceptPeer(socket, { findTorrent: () => baseInit() })
    })
    await new Promise<void>((resolve) => dualStack.listen(0, '::', resolve))
    cleanups.push(() => new Promise<void>((resolve) => dualStack.close(() => resolve())))
    const port = (dualStack.address() as AddressInfo).port
    const a = await connectPeer({ host: '127.0.0.1', port }, baseInit(), { localAddress: '127.0.0.6' })
    const b = await accepted!
    cleanups.push(() => a.close())
    cleanups.push(() => b.close())
    expect(b.remoteAddress.host).toBe('127.0.0.6')
  })

  it('is aborted by its signal during the handshake', async () => {
    const listening = await server(() => {})
    const controller = new AbortController()
    const dial = connectPeer({ host: '127.0.0.1', port: listening.port }, baseInit(), {
      signal: controller.signal,
    })
    setTimeout(() => controller.abort(new Error('stop')), 20)
    await expect(dial).rejects.toThrow('stop')
  })
})

describe('against a raw peer', () => {
  it('sends exactly the configured reserved bytes, then the extended handshake before anything else', async () => {
    const raw = await rawPeer()
    const connection = await connectPeer(
      { host: '127.0.0.1', port: raw.port },
      baseInit({ reserved: reservedBytes({ extended: true }), pieceCount: undefined }),
    )
    cleanups.push(() => connection.close())
    const { sink } = await raw.connected
    const handshake = await sink.atLeast(69)
    expect([...handshake.subarray(20, 28)]).toEqual([0, 0, 0, 0, 0, 0x10, 0, 0])
    expect(handshake.subarray(28, 48)).toEqual(Buffer.from(INFO_HASH))
    connection.bitfield(Bitfield.full(10))
    let messages = messagesAfterHandshake(sink.bytes)
    while (messages.length < 2) {
      await delay(10)
      messages = messagesAfterHandshake(sink.bytes)
    }
    expect(messages.map((message) => message.type)).toEqual(['extended', 'bitfield'])
    expect(messages[0]).toMatchObject({ id: 0 })
  })

  it('sends nothing but its extended handshake while the metadata is unknown', async () => {
    const raw = await rawPeer(reservedBytes({ extended: true }))
    const connection = await connectPeer(
      { host: '127.0.0.1', port: raw.port },
      baseInit({ pieceCount: undefined, reserved: reservedBytes({ extended: true }) }),
      { keepAliveIntervalMs: 0 },
    )
    cleanups.push(() => connection.close())
    const { socket, sink } = await raw.connected
    // The peer announces pieces before we know how many there are: checked only later.
    socket.write(encodeMessage({ type: 'bitfield', bitfield: Uint8Array.of(0xff, 0x80) }))
    socket.write(encodeMessage({ type: 'have', index: 3 }))
    await nextMessage(connection, 'have')
    expect(connection.peerPieces).toBeUndefined()
    await delay(50)
    expect(messagesAfterHandshake(sink.bytes).map((message) => message.type)).toEqual(['extended'])
    connection.setPieceCount(9)
    expect(connection.peerPieces?.count).toBe(9)
  })

  it('delivers messages that came with the handshake to listeners attached after await', async () => {
    const listening = await server((socket) => {
      socket.write(
        Buffer.concat([
          encodeHandshake({ reserved: reservedBytes({ fast: true }), infoHash: INFO_HASH, peerId: peerId() }),
          encodeMessage({ type: 'have-all' }),
          encodeMessage({ type: 'unchoke' }),
        ]),
      )
    })
    const connection = await connectPeer({ host: '127.0.0.1', port: listening.port }, baseInit())
    cleanups.push(() => connection.close())
    const messages = record(connection)
    await delay(50)
    expect(messages.map((message) => message.type)).toEqual(['have-all', 'unchoke'])
    expect(connection.peerChoking).toBe(false)
    expect(connection.peerPieces?.complete).toBe(true)
  })

  it('checks a bitfield received before the piece count once the count is set', async () => {
    const raw = await rawPeer()
    const connection = await connectPeer(
      { host: '127.0.0.1', port: raw.port },
      baseInit({ pieceCount: undefined }),
    )
    const { socket } = await raw.connected
    socket.write(encodeMessage({ type: 'bitfield', bitfield: Uint8Array.of(0xff, 0xff) }))
    await nextMessage(connection, 'bitfield')
    connection.setPieceCount(9)
    const reason = await closed(connection)
    expect(reason).toBeInstanceOf(PeerProtocolError)
    expect(reason).toMatchObject({ reason: 'invalid-bitfield' })
  })

  it('merges a bitfield or have-all sent after the first one (aria2 sends one mid-connection)', async () => {
    const raw = await rawPeer(reservedBytes({ extended: true, fast: true }))
    const connection = await connectPeer({ host: '127.0.0.1', port: raw.port }, baseInit())
    const { socket } = await raw.connected
    socket.write(encodeMessage({ type: 'have-none' }))
    await nextMessage(connection, 'have-none')
    socket.write(encodeMessage({ type: 'bitfield', bitfield: Uint8Array.of(0b1010_0000, 0) }))
    await nextMessage(connection, 'bitfield')
    expect([...connection.peerPieces!.indices()]).toEqual([0, 2])
    socket.write(encodeMessage({ type: 'have-all' }))
    await nextMessage(connection, 'have-all')
    expect(connection.peerPieces!.complete).toBe(true)
    expect(connection.closed).toBe(false)
    connection.close()
  })

  it('drops a peer that breaks the protocol with a typed error', async () => {
    const cases: [Uint8Array, Uint8Array, string][] = [
      [reservedBytes({ extended: true, fast: true }), Uint8Array.of(0, 0, 0, 1, 42), 'unknown-message'],
      [reservedBytes({ extended: true }), encodeMessage({ type: 'have-all' }), 'not-negotiated'],
      [
        reservedBytes({ fast: true }),
        encodeMessage({ type: 'extended', id: 0, payload: new Uint8Array() }),
        'not-negotiated',
      ],
      [reservedBytes({ fast: true }), Uint8Array.of(0xff, 0xff, 0xff, 0xf0, 7), 'invalid-length'],
      [reservedBytes({ fast: true }), encodeMessage({ type: 'have', index: 10 }), 'invalid-index'],
    ]
    for (const [reserved, bytes, reason] of cases) {
      const raw = await rawPeer(reserved)
      const connection = await connectPeer({ host: '127.0.0.1', port: raw.port }, baseInit())
      const { socket } = await raw.connected
      socket.write(bytes)
      const error = await closed(connection)
      expect(error, reason).toBeInstanceOf(PeerProtocolError)
      expect(error).toMatchObject({ reason })
    }
  })

  it('rejects a peer answering for another torrent, or not speaking BitTorrent', async () => {
    const other = await server((socket) => {
      socket.write(
        encodeHandshake({
          reserved: new Uint8Array(8),
          infoHash: new Uint8Array(20).fill(9),
          peerId: peerId(),
        }),
      )
    })
    await expect(connectPeer({ host: '127.0.0.1', port: other.port }, baseInit())).rejects.toMatchObject({
      name: 'HandshakeError',
      reason: 'info-hash',
    })
    const http = await server((socket) => socket.write('HTTP/1.1 400 Bad Request\r\n'))
    const error = await connectPeer({ host: '127.0.0.1', port: http.port }, baseInit()).catch((e) => e)
    expect(error).toBeInstanceOf(HandshakeError)
    expect(error).toMatchObject({ reason: 'protocol' })
  })

  it('times out a peer that never answers the handshake, and reports a refused connection', async () => {
    const silent = await server(() => {})
    await expect(
      connectPeer({ host: '127.0.0.1', port: silent.port }, baseInit(), { handshakeTimeoutMs: 100 }),
    ).rejects.toMatchObject({ name: 'PeerTimeoutError', phase: 'handshake', timeoutMs: 100 })
    const port = silent.port
    await silent.close()
    await expect(connectPeer({ host: '127.0.0.1', port }, baseInit())).rejects.toMatchObject({
      name: 'PeerConnectionError',
      cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
    })
  })

  it('writes a corked burst of requests as one buffer', async () => {
    const raw = await rawPeer()
    const connection = await connectPeer({ host: '127.0.0.1', port: raw.port }, baseInit({ pieceCount: 100 }))
    cleanups.push(() => connection.close())
    const { sink } = await raw.connected
    const before = (await sink.atLeast(69)).length
    const socket = (connection as unknown as { socket: Socket }).socket
    const writes: number[] = []
    const write = socket.write.bind(socket)
    socket.write = ((chunk: Uint8Array) => {
      writes.push(chunk.length)
      return write(chunk)
    }) as typeof socket.write
    connection.cork()
    for (let i = 0; i < 100; i++) connection.request(i, 0, 16384)
    connection.uncork()
    expect(writes).toEqual([100 * 17])
    const bytes = await sink.atLeast(before + 1700)
    const requests = messagesAfterHandshake(bytes).filter((message) => message.type === 'request')
    expect(requests.length).toBe(100)
  })
})

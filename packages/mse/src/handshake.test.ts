// Our initiator against our receiver over real TCP: both methods, payload both ways, the initial
// payload and bytes sent right behind the handshake delivered in order.
import { randomBytes } from 'node:crypto'
import { createServer, connect as netConnect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { readBytes, socketPair } from '../test/socket-pair.js'
import { accept } from './accept.js'
import { initiate } from './initiate.js'
import { req2Hash } from './mse-hashes.js'

const open: Socket[] = []
afterEach(() => {
  for (const socket of open.splice(0)) socket.destroy()
})

async function pair() {
  const { left, right } = await socketPair()
  open.push(left, right)
  return { left, right }
}

/** A socket pair joined through a proxy that records every byte from left to right. */
async function proxiedPair(): Promise<{ left: Socket; right: Socket; wire: Buffer[] }> {
  const { left: toProxy, right: proxyIn } = await pair()
  const wire: Buffer[] = []
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.40.1', resolve))
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const proxyOut = netConnect({ host: '127.0.40.1', port: (server.address() as { port: number }).port })
  const right = await accepted
  server.close()
  open.push(proxyOut, right)
  proxyIn.on('data', (chunk: Buffer) => {
    wire.push(Buffer.from(chunk))
    proxyOut.write(chunk)
  })
  proxyOut.pipe(proxyIn)
  return { left: toProxy, right, wire }
}

function lookup(...infoHashes: Uint8Array[]) {
  const byReq2 = new Map(infoHashes.map((h) => [Buffer.from(req2Hash(h)).toString('hex'), h]))
  return (req2: Uint8Array) => byReq2.get(Buffer.from(req2).toString('hex'))
}

describe('initiate ↔ accept', () => {
  for (const method of ['rc4', 'plaintext'] as const) {
    it(`agrees on ${method}, carries the initial payload and data both ways`, async () => {
      const { left, right } = await pair()
      const infoHash = randomBytes(20)
      const other = randomBytes(20)
      const payload = randomBytes(68)
      const [a, b] = await Promise.all([
        initiate(left, { infoHash, methods: [method], initialPayload: payload }),
        accept(right, { findInfoHash: lookup(other, infoHash) }),
      ])
      expect(a.method).toBe(method)
      expect(b).toMatchObject({ protocol: 'mse', method })
      if (b.protocol !== 'mse') throw new Error('unreachable')
      expect(Buffer.from(b.infoHash)).toEqual(infoHash)
      expect(await readBytes(b.stream, 68)).toEqual(payload)
      const big = randomBytes(3 * 1024 * 1024 + 7)
      const reply = randomBytes(100_000)
      a.stream.write(big)
      b.stream.write(reply)
      const [gotBig, gotReply] = await Promise.all([
        readBytes(b.stream, big.length),
        readBytes(a.stream, reply.length),
      ])
      expect(gotBig.equals(big)).toBe(true)
      expect(gotReply.equals(reply)).toBe(true)
    })
  }

  for (const [method, visible] of [
    ['rc4', false],
    ['plaintext', true],
  ] as const) {
    it(`on the wire: the payload is ${visible ? 'in the clear' : 'never in the clear'} after ${method}`, async () => {
      // left → recording proxy → right, so the test sees exactly the bytes the network carries.
      const { left, right, wire } = await proxiedPair()
      const infoHash = randomBytes(20)
      const initialPayload = Buffer.from('\x13BitTorrent protocol: the initial payload')
      const payload = Buffer.from('a payload that must not be readable on the wire '.repeat(50))
      const [a, b] = await Promise.all([
        initiate(left, { infoHash, methods: [method], initialPayload }),
        accept(right, { findInfoHash: lookup(infoHash) }),
      ])
      a.stream.write(payload)
      await readBytes(b.stream, initialPayload.length + payload.length)
      const seen = Buffer.concat(wire)
      // The initial payload travels RC4-encrypted even when plaintext is selected afterwards.
      expect(seen.includes(initialPayload)).toBe(false)
      expect(seen.includes(payload)).toBe(visible)
    })
  }

  it('selects RC4 when both are offered and the receiver prefers it', async () => {
    const { left, right } = await pair()
    const infoHash = randomBytes(20)
    const [a, b] = await Promise.all([
      initiate(left, { infoHash, methods: ['plaintext', 'rc4'] }),
      accept(right, { findInfoHash: lookup(infoHash), methods: ['rc4', 'plaintext'] }),
    ])
    expect(a.method).toBe('rc4')
    expect(b).toMatchObject({ method: 'rc4' })
  })

  it('keeps backpressure: a reader that stops makes writes return false, and loses nothing', async () => {
    const { left, right } = await pair()
    const infoHash = randomBytes(20)
    const [a, b] = await Promise.all([
      initiate(left, { infoHash }),
      accept(right, { findInfoHash: lookup(infoHash) }),
    ])
    b.stream.pause()
    const block = randomBytes(64 * 1024)
    let written = 0
    while (a.stream.write(block)) {
      written += block.length
      // TCP buffers a few MB on loopback; an unbounded writer would never stop.
      expect(written).toBeLessThan(64 * 1024 * 1024)
    }
    written += block.length
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(a.stream.writableNeedDrain).toBe(true)
    const drained = new Promise((resolve) => a.stream.once('drain', resolve))
    const received = await readBytes(b.stream, written)
    await drained
    expect(received.subarray(0, block.length).equals(block)).toBe(true)
    expect(received.subarray(written - block.length).equals(block)).toBe(true)
  })

  it('hands a plaintext BitTorrent handshake back untouched', async () => {
    const { left, right } = await pair()
    const handshake = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), randomBytes(48)])
    left.write(handshake)
    const accepted = await accept(right, { findInfoHash: () => undefined })
    expect(accepted.protocol).toBe('bittorrent')
    expect(accepted.stream).toBe(right)
    expect(await readBytes(accepted.stream, 68)).toEqual(handshake)
  })
})

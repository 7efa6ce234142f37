// What a hostile or broken peer can send, each ending in one typed error, the socket destroyed and
// nothing thrown past the call: garbage, too much padding, wrong hashes, an unknown torrent, an
// unoffered method, a truncated stream, silence.
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { accept, initiate, req2Hash } from '../src/index.js'
import { RawPeer } from './raw-peer.js'
import { readBytes, socketPair } from './socket-pair.js'

const open: Socket[] = []
afterEach(() => {
  for (const socket of open.splice(0)) socket.destroy()
})

async function pair() {
  const { left, right } = await socketPair('127.0.40.3')
  open.push(left, right)
  left.on('error', () => {})
  right.on('error', () => {})
  return { left, right }
}

const INFO_HASH = randomBytes(20)
const knows = (req2: Uint8Array) => (Buffer.from(req2Hash(INFO_HASH)).equals(req2) ? INFO_HASH : undefined)

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise
  } catch (error) {
    return error as Error & Record<string, unknown>
  }
  throw new Error('expected a rejection')
}

describe('the receiving side against hostile initiators', () => {
  it('garbage: no req1 hash within 512 + 20 bytes of the key', async () => {
    const { left, right } = await pair()
    left.write(Buffer.concat([Buffer.from([7]), randomBytes(4000)]))
    const error = await rejection(accept(right, { findInfoHash: knows }))
    expect(error.name).toBe('MseSyncError')
    expect(error.marker).toBe('req1')
    expect(error.searched).toBe(532)
    expect(right.destroyed).toBe(true)
  })

  it('PadA of 513 bytes (one over the limit) is refused, 512 accepted', async () => {
    for (const [padding, ok] of [
      [513, false],
      [512, true],
    ] as const) {
      const { left, right } = await pair()
      const peer = new RawPeer(left)
      peer.sendKey(padding)
      const accepted = accept(right, { findInfoHash: knows })
      await peer.readKey()
      peer.sendStep3(INFO_HASH)
      if (ok) expect((await accepted).protocol).toBe('mse')
      else expect((await rejection(accepted)).name).toBe('MseSyncError')
    }
  })

  it('a degenerate public key (0, 1 or P-1 would make S predictable)', async () => {
    const { left, right } = await pair()
    left.write(Buffer.concat([Buffer.alloc(95), Buffer.from([1])]))
    expect((await rejection(accept(right, { findInfoHash: knows }))).name).toBe('MseKeyError')
  })

  it('a wrong req1 hash, then an unknown torrent', async () => {
    {
      const { left, right } = await pair()
      const peer = new RawPeer(left)
      peer.sendKey(10)
      const accepted = accept(right, { findInfoHash: knows })
      await peer.readKey()
      peer.sendStep3(INFO_HASH, { req1: randomBytes(20) })
      left.write(randomBytes(600))
      expect((await rejection(accepted)).name).toBe('MseSyncError')
    }
    {
      const { left, right } = await pair()
      const peer = new RawPeer(left)
      peer.sendKey()
      const accepted = accept(right, { findInfoHash: knows })
      await peer.readKey()
      peer.sendStep3(randomBytes(20))
      expect((await rejection(accepted)).name).toBe('MseUnknownTorrentError')
    }
  })

  it('a verification constant that does not decrypt to zeros', async () => {
    const { left, right } = await pair()
    const peer = new RawPeer(left)
    peer.sendKey()
    const accepted = accept(right, { findInfoHash: knows })
    await peer.readKey()
    peer.sendStep3(INFO_HASH, { vc: Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]) })
    expect((await rejection(accepted)).name).toBe('MseVerificationError')
  })

  it('PadC over 512 bytes, with no allocation of what the peer claims', async () => {
    const { left, right } = await pair()
    const peer = new RawPeer(left)
    peer.sendKey()
    const accepted = accept(right, { findInfoHash: knows })
    await peer.readKey()
    peer.sendStep3(INFO_HASH, { padC: 0xffff })
    const error = await rejection(accepted)
    expect(error.name).toBe('MsePaddingError')
    expect(error.length).toBe(0xffff)
  })

  it('a crypto_provide with nothing we accept', async () => {
    const { left, right } = await pair()
    const peer = new RawPeer(left)
    peer.sendKey()
    const accepted = accept(right, { findInfoHash: knows, methods: ['rc4'] })
    await peer.readKey()
    peer.sendStep3(INFO_HASH, { provide: 0x01 | 0x80 })
    const error = await rejection(accepted)
    expect(error.name).toBe('MseMethodError')
    expect(error.provided).toBe(0x81)
  })

  it('a stream cut short: after a few bytes, and in the middle of step 3', async () => {
    {
      const { left, right } = await pair()
      left.end(randomBytes(50))
      const error = await rejection(accept(right, { findInfoHash: knows }))
      expect(error.name).toBe('MseClosedError')
      expect(error.closedByPeer).toBe(true)
    }
    {
      const { left, right } = await pair()
      const peer = new RawPeer(left)
      peer.sendKey()
      const accepted = accept(right, { findInfoHash: knows })
      await peer.readKey()
      left.end(Buffer.from(peer.secret!.subarray(0, 30)))
      expect((await rejection(accepted)).name).toBe('MseClosedError')
    }
  })

  it('silence until the timeout, and an abort', async () => {
    {
      const { right } = await pair()
      const started = Date.now()
      const error = await rejection(accept(right, { findInfoHash: knows }, { timeoutMs: 150 }))
      expect(error.name).toBe('MseTimeoutError')
      expect(Date.now() - started).toBeGreaterThanOrEqual(140)
      expect(right.destroyed).toBe(true)
    }
    {
      const { right } = await pair()
      const controller = new AbortController()
      const accepted = accept(right, { findInfoHash: knows }, { signal: controller.signal })
      controller.abort(new Error('stopping'))
      expect((await rejection(accepted)).message).toBe('stopping')
      expect(right.destroyed).toBe(true)
    }
  })

  it('a lookup that never answers still ends at the timeout', async () => {
    const { left, right } = await pair()
    const peer = new RawPeer(left)
    peer.sendKey()
    const accepted = accept(right, { findInfoHash: () => new Promise(() => {}) }, { timeoutMs: 300 })
    await peer.readKey()
    peer.sendStep3(INFO_HASH)
    expect((await rejection(accepted)).name).toBe('MseTimeoutError')
  })

  it('policies: plaintext refused when encryption is required, MSE refused when it is off', async () => {
    {
      const { left, right } = await pair()
      left.write(Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), randomBytes(48)]))
      const error = await rejection(accept(right, { findInfoHash: knows, allowPlaintext: false }))
      expect(error.name).toBe('MsePlaintextRefusedError')
    }
    {
      const { left, right } = await pair()
      const peer = new RawPeer(left)
      peer.sendKey()
      const error = await rejection(accept(right, { findInfoHash: knows, methods: [] }))
      expect(error.name).toBe('MseEncryptionRefusedError')
    }
  })
})

describe('the receiving side hands on what came behind step 3', () => {
  for (const method of ['rc4', 'plaintext'] as const) {
    it(`${method}: the initial payload, then bytes sent in the same write, in order`, async () => {
      const { left, right } = await pair()
      const peer = new RawPeer(left)
      peer.sendKey(100)
      const accepted = accept(right, { findInfoHash: knows })
      await peer.readKey()
      const ia = randomBytes(68)
      const after = randomBytes(3000)
      // An initiator offering plaintext only knows the answer and may send plain bytes at once.
      const encrypt = peer.sendStep3(INFO_HASH, { provide: method === 'rc4' ? 0x02 : 0x01, ia, padC: 17 })
      const tail = Buffer.from(after)
      if (method === 'rc4') encrypt.update(tail)
      left.write(tail)
      const result = await accepted
      expect(result).toMatchObject({ protocol: 'mse', method })
      expect(
        (await readBytes(result.stream, ia.length + after.length)).equals(Buffer.concat([ia, after])),
      ).toBe(true)
    })
  }
})

describe('the initiating side against hostile receivers', () => {
  it('PadB over 512 bytes: no VC within 512 + 8 bytes', async () => {
    const { left, right } = await pair()
    const peer = new RawPeer(right)
    const initiated = initiate(left, { infoHash: INFO_HASH })
    await peer.readKey()
    peer.sendKey(513)
    peer.sendStep4(INFO_HASH)
    const error = await rejection(initiated)
    expect(error.name).toBe('MseSyncError')
    expect(error.marker).toBe('vc')
    expect(error.searched).toBe(520)
  })

  it('a crypto_select we did not offer, or two bits at once', async () => {
    for (const select of [0x01, 0x03]) {
      const { left, right } = await pair()
      const peer = new RawPeer(right)
      const initiated = initiate(left, { infoHash: INFO_HASH, methods: ['rc4'] })
      await peer.readKey()
      peer.sendKey()
      peer.sendStep4(INFO_HASH, { select })
      const error = await rejection(initiated)
      expect(error.name).toBe('MseMethodError')
      expect(error.selected).toBe(select)
    }
  })

  it('PadD over 512 bytes', async () => {
    const { left, right } = await pair()
    const peer = new RawPeer(right)
    const initiated = initiate(left, { infoHash: INFO_HASH })
    await peer.readKey()
    peer.sendKey()
    peer.sendStep4(INFO_HASH, { padD: 40_000 })
    expect((await rejection(initiated)).name).toBe('MsePaddingError')
  })

  it('the answer of a receiver that used another info hash never syncs', async () => {
    const { left, right } = await pair()
    const peer = new RawPeer(right)
    const initiated = initiate(left, { infoHash: INFO_HASH })
    await peer.readKey()
    peer.sendKey()
    peer.sendStep4(randomBytes(20), { after: randomBytes(600) })
    expect((await rejection(initiated)).name).toBe('MseSyncError')
  })

  it('a receiver that answers with a plain BitTorrent handshake is recognised at once', async () => {
    const { left, right } = await pair()
    const initiated = initiate(left, { infoHash: INFO_HASH }, { timeoutMs: 5000 })
    await readBytes(right, 96)
    right.write(Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), randomBytes(48)]))
    const started = Date.now()
    expect((await rejection(initiated)).name).toBe('MsePlaintextReplyError')
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('a receiver that hangs up after its key', async () => {
    const { left, right } = await pair()
    const peer = new RawPeer(right)
    const initiated = initiate(left, { infoHash: INFO_HASH })
    await peer.readKey()
    right.end(peer.keys.publicKey)
    const error = await rejection(initiated)
    expect(error.name).toBe('MseClosedError')
    expect(error.closedByPeer).toBe(true)
  })

  it('payload sent in the same write as the reply is handed on, decrypted', async () => {
    const { left, right } = await pair()
    const peer = new RawPeer(right)
    const initiated = initiate(left, { infoHash: INFO_HASH })
    await peer.readKey()
    peer.sendKey(77)
    const payload = randomBytes(5000)
    peer.sendStep4(INFO_HASH, { padD: 33, after: payload })
    const { stream, method } = await initiated
    expect(method).toBe('rc4')
    expect((await readBytes(stream, payload.length)).equals(payload)).toBe(true)
  })
})

// uTP between two of our own clients on loopback: a listening client opens a uTP socket on its TCP port
// number, a leecher dials over uTP first (plain or MSE inside), falls back to TCP when the seeder has
// uTP off (its SYN goes unanswered, as libtorrent's does), and a taken UDP port is handled at listen.
import { createSocket } from 'node:dgram'
import { createTorrent, type Metainfo, parseTorrent } from '@bt/metainfo'
import { createMemoryStore } from '@bt/piece-store'
import { pseudoRandomBytes } from '@bt/test-helpers'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Client, createClient, type EncryptionPolicy } from '../src/index.js'
import { filledMemoryStore } from './stores.js'

const content = pseudoRandomBytes(768 * 1024 + 77, 'utp')
let meta: Metainfo
const clients: Client[] = []
const cleanups: (() => Promise<void>)[] = []
let nextHost = 10

beforeAll(async () => {
  const created = await createTorrent(
    { path: ['over-utp.bin'], length: content.length, source: content },
    { pieceLength: 32 * 1024 },
  )
  meta = parseTorrent(created.torrent)
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

function host(): string {
  return `127.0.60.${nextHost++}`
}

async function seeder(options: { utp: boolean; encryption?: EncryptionPolicy }) {
  const client = createClient({ utp: options.utp, encryption: options.encryption ?? 'prefer' })
  clients.push(client)
  const address = { host: host(), port: 0 }
  address.port = await client.listen({ port: 0, host: address.host })
  let utpIncoming = 0
  client.utp?.on('connection', () => utpIncoming++)
  client.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false })
  return { client, address, utpIncoming: () => utpIncoming }
}

async function leech(peer: { host: string; port: number }, encryption: EncryptionPolicy = 'prefer') {
  const client = createClient({ encryption })
  clients.push(client)
  await client.listen({ port: 0, host: host() })
  const store = createMemoryStore(meta)
  const torrent = client.add(meta, {
    store,
    announce: false,
    peers: [peer],
    peerRetryDelayMs: 60_000,
    utpConnectTimeoutMs: 500,
  })
  await torrent.done
  const pieces = await Promise.all([...Array(meta.pieceCount).keys()].map((index) => store.readPiece(index)))
  return { client, data: Buffer.concat(pieces) }
}

describe('uTP in the client', () => {
  it('listen opens a uTP socket on the TCP port number; utp: false opens none', async () => {
    const client = createClient()
    clients.push(client)
    const port = await client.listen({ port: 0, host: host() })
    expect(client.utp?.address()).toMatchObject({ port, address: `127.0.60.${nextHost - 1}` })
    const tcpOnly = createClient({ utp: false })
    clients.push(tcpOnly)
    await tcpOnly.listen({ port: 0, host: host() })
    expect(tcpOnly.utp).toBeUndefined()
  })

  for (const encryption of ['prefer', 'require', 'off'] as const) {
    it(`a leecher downloads over uTP from a uTP seeder (${encryption}), verified`, async () => {
      const seed = await seeder({ utp: true, encryption })
      const { data } = await leech(seed.address, encryption)
      expect(data.equals(content)).toBe(true)
      expect(seed.utpIncoming()).toBeGreaterThanOrEqual(1)
    })
  }

  it('falls back to TCP when the seeder has uTP off: the SYN goes unanswered, TCP completes', async () => {
    const seed = await seeder({ utp: false })
    // Stand in for the seeder's silent UDP port (libtorrent with uTP off answers nothing) and see the SYN.
    const udp = createSocket('udp4')
    await new Promise<void>((resolve) => udp.bind(seed.address.port, seed.address.host, resolve))
    cleanups.push(() => new Promise((resolve) => udp.close(() => resolve())))
    const seen: Buffer[] = []
    udp.on('message', (datagram) => seen.push(datagram))
    const { client, data } = await leech(seed.address)
    expect(data.equals(content)).toBe(true)
    // ST_SYN (type 4, version 1) was tried first, and no uTP connection stayed.
    expect(seen.some((datagram) => datagram[0] === 0x41)).toBe(true)
    expect(client.utp?.connectionCount).toBe(0)
  })

  it('listen on a fixed port whose UDP twin is taken fails with UtpBindError and keeps no TCP listener', async () => {
    const address = { host: host(), port: 0 }
    const udp = createSocket('udp4')
    await new Promise<void>((resolve) => udp.bind(0, address.host, resolve))
    cleanups.push(() => new Promise((resolve) => udp.close(() => resolve())))
    address.port = udp.address().port
    const client = createClient()
    clients.push(client)
    await expect(client.listen(address)).rejects.toMatchObject({ name: 'UtpBindError' })
    // The TCP side was given back: another client takes the port with uTP off.
    const tcpOnly = createClient({ utp: false })
    clients.push(tcpOnly)
    expect(await tcpOnly.listen(address)).toBe(address.port)
  })
})

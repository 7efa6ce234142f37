// MSE against a real peer: libtorrent 2.0 (python3-libtorrent) with encryption forced both ways. We dial
// it (RC4 selected, and plaintext selected when that is all it allows), speak BitTorrent over the result
// and download verified pieces; and a libtorrent leecher dials us and downloads everything through our
// receiving side.
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Metainfo, parseTorrent } from '@bt/metainfo'
import {
  acceptPeer,
  connectPeer,
  openPeer,
  ourHandshake,
  type PeerConnection,
  type PeerConnectionInit,
} from '@bt/peer-wire'
import {
  describeWithTools,
  type LibtorrentSeeder,
  makeTorrentWithLibtorrent,
  startLibtorrentSeeder,
  startProcess,
} from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { accept, type CryptoMethod, initiate, req2Hash } from '../src/index.js'

const LT_SCRIPT = fileURLToPath(new URL('../../../tooling/test-helpers/scripts/lt_seed.py', import.meta.url))
const PIECE_LENGTH = 32 * 1024
const BLOCK = 16 * 1024
const SIZE = 9 * PIECE_LENGTH + 5000
/** Our own address for these tests, and the seeders' (each peer its own). */
const US = '127.0.40.2'
const FORCED = { out_enc_policy: 0, in_enc_policy: 0 }

describeWithTools(['py:libtorrent'], 'MSE against libtorrent with encryption forced', () => {
  let dir: string
  let torrentPath: string
  let content: Buffer
  let meta: Metainfo
  const seeders: LibtorrentSeeder[] = []
  const connections: PeerConnection[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-mse-'))
    content = randomBytes(SIZE)
    await writeFile(join(dir, 'content.bin'), content)
    torrentPath = join(dir, 'content.torrent')
    await makeTorrentWithLibtorrent({
      contentPath: join(dir, 'content.bin'),
      torrentPath,
      pieceLength: PIECE_LENGTH,
    })
    meta = parseTorrent(await readFile(torrentPath))
  })

  afterAll(async () => {
    for (const connection of connections) connection.close()
    await Promise.all(seeders.map((seeder) => seeder.stop()))
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  async function seeder(host: string, allowedEncLevel: number): Promise<LibtorrentSeeder> {
    const started = await startLibtorrentSeeder({
      torrentPath,
      savePath: dir,
      host,
      settings: { ...FORCED, allowed_enc_level: allowedEncLevel },
    })
    seeders.push(started)
    return started
  }

  function ourInit(): PeerConnectionInit {
    return {
      infoHash: meta.infoHashBytes,
      peerId: Uint8Array.from([...Buffer.from('-BT0001-'), ...randomBytes(12)]),
      pieceCount: meta.pieceCount,
    }
  }

  async function dial(seed: LibtorrentSeeder): Promise<Socket> {
    const socket = netConnect({ host: seed.host, port: seed.port, localAddress: US, noDelay: true })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return socket
  }

  async function encryptedConnection(seed: LibtorrentSeeder, methods: CryptoMethod[]) {
    const init = ourInit()
    const mse = await initiate(
      await dial(seed),
      { infoHash: meta.infoHashBytes, methods, initialPayload: ourHandshake(init) },
      { timeoutMs: 10_000 },
    )
    const connection = await openPeer(mse.stream, seed, init, { handshakeSent: true })
    connections.push(connection)
    return { method: mse.method, connection }
  }

  async function downloadAndVerify(connection: PeerConnection, pieces: number[]): Promise<void> {
    const unchoked = new Promise<void>((resolve) =>
      connection.on('message', (message) => message.type === 'unchoke' && resolve()),
    )
    connection.interested()
    await unchoked
    const buffers = new Map(pieces.map((index) => [index, new Uint8Array(meta.layout.pieceLengthAt(index))]))
    let outstanding = 0
    const received = new Promise<void>((resolve, reject) => {
      connection.on('close', (reason) => reject(reason ?? new Error('closed')))
      connection.on('message', (message) => {
        if (message.type !== 'piece') return
        buffers.get(message.index)!.set(message.block, message.begin)
        if (--outstanding === 0) resolve()
      })
    })
    connection.cork()
    for (const index of pieces) {
      const length = meta.layout.pieceLengthAt(index)
      for (let begin = 0; begin < length; begin += BLOCK) {
        connection.request(index, begin, Math.min(BLOCK, length - begin))
        outstanding++
      }
    }
    connection.uncork()
    await received
    for (const [index, buffer] of buffers) {
      const digest = createHash('sha1').update(buffer).digest()
      expect(digest.equals(Buffer.from(meta.pieceHash(index))), `piece ${index}`).toBe(true)
    }
  }

  it('RC4: handshakes, speaks BitTorrent inside and downloads verified pieces', async () => {
    const seed = await seeder('127.0.40.10', 2)
    const { method, connection } = await encryptedConnection(seed, ['rc4'])
    expect(method).toBe('rc4')
    expect(Buffer.from(connection.remotePeerId.subarray(0, 5)).toString('latin1')).toBe('-LT20')
    await downloadAndVerify(connection, [0, 4, meta.pieceCount - 1])
  })

  it('the same seeder hangs up on a plaintext handshake (encryption really is forced)', async () => {
    const seed = seeders[0]!
    await expect(
      connectPeer(seed, ourInit(), { localAddress: US, handshakeTimeoutMs: 5000 }),
    ).rejects.toThrow()
  })

  it('plaintext selected: a seeder that allows only plaintext after the MSE handshake', async () => {
    const seed = await seeder('127.0.40.11', 1)
    const { method, connection } = await encryptedConnection(seed, ['plaintext', 'rc4'])
    expect(method).toBe('plaintext')
    await downloadAndVerify(connection, [1, meta.pieceCount - 1])
  })

  it('libtorrent with default settings, offered both methods, selects plaintext (prefer_rc4 is off)', async () => {
    const started = await startLibtorrentSeeder({ torrentPath, savePath: dir, host: '127.0.40.12' })
    seeders.push(started)
    const { method, connection } = await encryptedConnection(started, ['rc4', 'plaintext'])
    expect(method).toBe('plaintext')
    await downloadAndVerify(connection, [2])
  })

  it('an RC4-only offer to that seeder fails cleanly', async () => {
    const seed = seeders[1]!
    await expect(encryptedConnection(seed, ['rc4'])).rejects.toThrow()
  })

  for (const [level, expected] of [
    [2, 'rc4'],
    [1, 'plaintext'],
  ] as const) {
    it(`a libtorrent leecher (forced, allowed_enc_level ${level}) dials us and downloads everything`, async () => {
      const { server, port, methods } = await serveContent()
      const savePath = join(dir, `leech-${level}`)
      await mkdir(savePath)
      const leecher = startProcess('/usr/bin/python3', [
        LT_SCRIPT,
        'leech',
        '--torrent',
        torrentPath,
        '--save-path',
        savePath,
        '--host',
        `127.0.40.${20 + level}`,
        '--peer',
        `${US}:${port}`,
        '--settings',
        JSON.stringify({ ...FORCED, allowed_enc_level: level }),
        '--timeout',
        '30',
      ])
      try {
        expect(await leecher.exited, leecher.output()).toBe(0)
      } finally {
        await leecher.stop()
        server.close()
      }
      expect((await readFile(join(savePath, 'content.bin'))).equals(content)).toBe(true)
      expect(methods.length).toBeGreaterThan(0)
      expect(new Set(methods)).toEqual(new Set([expected]))
    })
  }

  /** A seeder of our own: MSE receiving side, then peer-wire, then every block asked for. */
  async function serveContent(): Promise<{ server: Server; port: number; methods: CryptoMethod[] }> {
    const methods: CryptoMethod[] = []
    const ourReq2 = Buffer.from(req2Hash(meta.infoHashBytes))
    const server = createServer(async (socket) => {
      socket.on('error', () => {})
      try {
        const accepted = await accept(
          socket,
          {
            findInfoHash: (req2) => (ourReq2.equals(req2) ? meta.infoHashBytes : undefined),
            allowPlaintext: false,
          },
          { timeoutMs: 10_000 },
        )
        if (accepted.protocol !== 'mse') throw new Error('plaintext')
        methods.push(accepted.method)
        const connection = await acceptPeer(
          accepted.stream,
          { findTorrent: () => ourInit() },
          { remoteAddress: { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 } },
        )
        connections.push(connection)
        seed(connection)
      } catch {
        socket.destroy()
      }
    })
    await new Promise<void>((resolve) => server.listen(0, US, resolve))
    return { server, port: (server.address() as { port: number }).port, methods }
  }

  function seed(connection: PeerConnection): void {
    if (connection.negotiated.fast) connection.haveAll()
    else {
      const bitfield = new Uint8Array(Math.ceil(meta.pieceCount / 8))
      for (let i = 0; i < meta.pieceCount; i++) bitfield[i >> 3]! |= 0x80 >> (i & 7)
      connection.bitfield(bitfield)
    }
    connection.on('message', (message) => {
      if (message.type === 'interested') connection.unchoke()
      if (message.type === 'request') {
        const start = message.index * PIECE_LENGTH + message.begin
        connection.piece(message.index, message.begin, content.subarray(start, start + message.length))
      }
    })
  }
})

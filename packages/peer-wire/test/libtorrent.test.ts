// Interop with a real peer: libtorrent 2.0 (python3-libtorrent) seeding a torrent on loopback.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BencodeDict, decode, spanOf } from '@bt/bencode'
import {
  describeWithTools,
  type LibtorrentSeeder,
  makeTorrentWithLibtorrent,
  startLibtorrentSeeder,
} from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { connectPeer, createExtensionRegistry, type PeerConnection, reservedBytes } from '../src/index.js'
import { MessageLog, peerId } from './loopback.js'

const PIECE_LENGTH = 32 * 1024
const BLOCK = 16 * 1024
const SIZE = 9 * PIECE_LENGTH + 5000

describeWithTools(['py:libtorrent'], 'peer-wire against a libtorrent seeder', () => {
  let dir: string
  let seeder: LibtorrentSeeder
  let infoHash: Uint8Array
  let pieceHashes: Uint8Array
  let pieceCount: number
  let infoLength: number
  const connections: PeerConnection[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-peer-wire-'))
    await writeFile(join(dir, 'content.bin'), randomBytes(SIZE))
    const torrentPath = join(dir, 'content.torrent')
    const made = await makeTorrentWithLibtorrent({
      contentPath: join(dir, 'content.bin'),
      torrentPath,
      pieceLength: PIECE_LENGTH,
    })
    const bytes = await readFile(torrentPath)
    const torrent = decode(bytes) as BencodeDict
    const info = torrent.get('info') as BencodeDict
    pieceHashes = info.get('pieces') as Uint8Array
    pieceCount = pieceHashes.length / 20
    infoHash = Uint8Array.from(Buffer.from(made.infoHash, 'hex'))
    const span = spanOf(bytes, ['info'])
    infoLength = span.end - span.start
    seeder = await startLibtorrentSeeder({ torrentPath, savePath: dir })
    expect(seeder.infoHash).toBe(made.infoHash)
  })

  afterAll(async () => {
    for (const connection of connections) connection.close()
    await seeder?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  async function connect(init: { pieceCount?: number; reserved?: Uint8Array }) {
    const connection = await connectPeer(
      { host: '127.0.0.1', port: seeder.port },
      {
        infoHash,
        peerId: peerId(),
        extensions: createExtensionRegistry([{ name: 'ut_metadata' }]),
        extendedHandshake: { version: 'BT peer-wire test' },
        ...init,
      },
    )
    connections.push(connection)
    return connection
  }

  it('handshakes, negotiates fast and BEP 10, gets unchoked and downloads verified pieces', async () => {
    const connection = await connect({ pieceCount })
    const log = new MessageLog(connection)
    expect(Buffer.from(connection.remotePeerId.subarray(0, 5)).toString('latin1')).toBe('-LT20')
    expect(connection.negotiated).toEqual({ fast: true, extended: true })

    const { handshake } = await log.find('extended-handshake')
    expect(handshake.m.get('ut_metadata')).toBeGreaterThan(0)
    expect(handshake.metadataSize).toBe(infoLength)
    expect([...(handshake.yourip ?? [])]).toEqual([127, 0, 0, 1])
    await log.find((message) => message.type === 'have-all' || message.type === 'bitfield')
    expect(connection.peerPieces?.complete).toBe(true)

    connection.interested()
    await log.find('unchoke')
    expect(connection.peerChoking).toBe(false)

    // The first piece and the short last one, all blocks requested in one corked burst.
    const wanted = [0, pieceCount - 1]
    const buffers = new Map(wanted.map((index) => [index, new Uint8Array(pieceSize(index))]))
    let outstanding = 0
    connection.cork()
    for (const index of wanted) {
      for (let begin = 0; begin < pieceSize(index); begin += BLOCK) {
        connection.request(index, begin, Math.min(BLOCK, pieceSize(index) - begin))
        outstanding++
      }
    }
    connection.uncork()
    await new Promise<void>((resolve) => {
      connection.on('message', (message) => {
        if (message.type !== 'piece') return
        buffers.get(message.index)!.set(message.block, message.begin)
        if (--outstanding === 0) resolve()
      })
    })
    for (const [index, buffer] of buffers) {
      const digest = createHash('sha1').update(buffer).digest()
      expect(
        digest.equals(Buffer.from(pieceHashes.subarray(index * 20, index * 20 + 20))),
        `piece ${index}`,
      ).toBe(true)
    }
  })

  it('handshakes magnet-style: extension protocol only, pieces checked once the count is known', async () => {
    const connection = await connect({ reserved: reservedBytes({ extended: true }) })
    const log = new MessageLog(connection)
    expect(connection.negotiated).toEqual({ fast: false, extended: true })
    const { handshake } = await log.find('extended-handshake')
    expect(handshake.m.get('ut_metadata')).toBeGreaterThan(0)
    await log.find('bitfield')
    expect(connection.peerPieces).toBeUndefined()
    connection.setPieceCount(pieceCount)
    expect(connection.closed).toBe(false)
    expect(connection.peerPieces?.complete).toBe(true)
  })
})

function pieceSize(index: number): number {
  return Math.min(PIECE_LENGTH, SIZE - index * PIECE_LENGTH)
}

// The magnet commands end to end: the exact output formats, what goes on the wire before the metadata
// is known (a recording peer checks every byte we send), metadata and downloads from libtorrent found
// through a real tracker, and `bt download`/`bt seed` by magnet link with our own seeder.
import { readFile } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { bytesToKey, decode, encode } from '@bt/bencode'
import { decodeMetadataMessage, encodeMetadataMessage, METADATA_PIECE_SIZE } from '@bt/client-core'
import { parseTorrent, toMagnet } from '@bt/metainfo'
import {
  describeWithTools,
  type LoopbackTracker,
  startAria2,
  startBittorrentTracker,
  startLibtorrentSeeder,
  startTransmission,
} from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { contentDifferences, stopBt } from './leechers.js'
import { runBt } from './run-bt.js'
import {
  bt,
  copyOfSeedDir,
  describeRun,
  freshDir,
  makeFixture,
  pieceBytes,
  removeFixture,
  seedingEvent,
  spawnBtProcess,
  type TorrentFixture,
  waitForSeeders,
} from './swarm.js'

const KIB = 1024
let tracker: LoopbackTracker
let single: TorrentFixture
let multi: TorrentFixture
const cleanups: (() => Promise<void>)[] = []

beforeAll(async () => {
  tracker = await startBittorrentTracker()
  // 16 KiB pieces: 100 piece hashes for the single file; 938 for the multi-file torrent, whose info
  // dictionary (19 KB) then travels in two BEP 9 pieces.
  single = await makeFixture({
    name: 'single.bin',
    pieceLength: 16 * KIB,
    announce: [tracker.httpUrl],
    length: 1600 * KIB + 333,
  })
  multi = await makeFixture({
    name: 'album',
    pieceLength: 16 * KIB,
    announce: [tracker.httpUrl],
    files: [
      { path: 'one.bin', length: 12000 * KIB },
      { path: 'sub/two.bin', length: 3000 * KIB + 17 },
      { path: 'empty.txt', length: 0 },
    ],
  })
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(async () => {
  await removeFixture(single)
  await removeFixture(multi)
  await tracker?.close()
})

/**
 * `bt info` of the .torrent without the fields outside the info dictionary (creator, comment, date),
 * which a magnet link cannot carry.
 */
async function infoOfTorrentFile(fixture: TorrentFixture): Promise<string> {
  const { stdout } = await runBt(['info', fixture.torrentPath])
  return stdout
    .split('\n')
    .filter((line) => !/^(Created By|Comment|Creation Date): /.test(line))
    .join('\n')
}

async function magnetOf(fixture: TorrentFixture): Promise<string> {
  return toMagnet(parseTorrent(await readFile(fixture.torrentPath)))
}

describe('bt magnet_parse', () => {
  it('prints the tracker URL and the info hash, offline', async () => {
    const hash = single.infoHash
    const magnet = `magnet:?xt=urn:btih:${hash.toUpperCase()}&dn=a%20file&tr=http%3A%2F%2Ft.example%2Fannounce&tr=udp://u.example:1&x.pe=127.0.0.1:6881`
    expect(await runBt(['magnet_parse', magnet])).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'Tracker URL: http://t.example/announce',
        `Info Hash: ${hash}`,
        'Name: a file',
        'Trackers:',
        '  http://t.example/announce',
        '  udp://u.example:1',
        'Peers:',
        '  127.0.0.1:6881',
        '',
      ].join('\n'),
    })
    expect(JSON.parse((await runBt(['magnet-parse', '--json', magnet])).stdout)).toEqual({
      infoHash: hash,
      name: 'a file',
      trackers: ['http://t.example/announce', 'udp://u.example:1'],
      webSeeds: [],
      peers: ['127.0.0.1:6881'],
    })
  })

  it('an invalid magnet link exits 1 with one line', async () => {
    const result = await runBt(['magnet_parse', 'magnet:?dn=nothing'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^bt: metainfo: invalid magnet link: xt: .*\n$/)
  })
})

interface Recording {
  /** The 8 reserved bytes of bt's handshake, hex. */
  reserved: string
  /** Every message bt sent after its handshake: `20/<ext id>` for extended ones, else the id. */
  messages: string[]
}

/**
 * A raw peer that has the metadata, written against the wire format itself (not our peer-wire), so it
 * sees exactly what bt sends: handshake, extension handshake with `ut_metadata` = 3, metadata served.
 */
async function startRecordingPeer(infoBytes: Uint8Array, infoHash: string) {
  const recordings: Recording[] = []
  const sockets = new Set<Socket>()
  const peerId = Buffer.from('-RC0001-recordingpeer').subarray(0, 20)
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    const recording: Recording = { reserved: '', messages: [] }
    recordings.push(recording)
    let buffer = Buffer.alloc(0)
    let theirMetadataId: number | undefined
    const sendMessage = (id: number, payload: Uint8Array) => {
      const header = Buffer.alloc(5)
      header.writeUInt32BE(payload.length + 1)
      header[4] = id
      socket.write(Buffer.concat([header, payload]))
    }
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      if (recording.reserved === '') {
        if (buffer.length < 68) return
        recording.reserved = buffer.subarray(20, 28).toString('hex')
        buffer = buffer.subarray(68)
        const reserved = Buffer.alloc(8)
        reserved[5] = 0x10
        socket.write(
          Buffer.concat([
            Buffer.from('\x13BitTorrent protocol'),
            reserved,
            Buffer.from(infoHash, 'hex'),
            peerId,
          ]),
        )
        const handshake = encode({ m: { ut_metadata: 3 }, metadata_size: infoBytes.length })
        sendMessage(20, Buffer.concat([Buffer.from([0]), handshake]))
      }
      while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
        const length = buffer.readUInt32BE(0)
        const message = buffer.subarray(4, 4 + length)
        buffer = buffer.subarray(4 + length)
        if (length === 0) {
          recording.messages.push('keep-alive')
          continue
        }
        const id = message[0]!
        if (id !== 20) {
          recording.messages.push(String(id))
          continue
        }
        const extId = message[1]!
        recording.messages.push(`20/${extId}`)
        const payload = message.subarray(2)
        if (extId === 0) {
          const dict = decode(payload, { strict: false })
          const m = dict instanceof Map ? dict.get('m') : undefined
          const id = m instanceof Map ? m.get(bytesToKey(Buffer.from('ut_metadata'))) : undefined
          if (typeof id === 'number') theirMetadataId = id
        } else if (extId === 3 && theirMetadataId !== undefined) {
          const request = decodeMetadataMessage(payload)
          if (request?.type !== 'request') continue
          const start = request.piece * METADATA_PIECE_SIZE
          const data = infoBytes.subarray(start, start + METADATA_PIECE_SIZE)
          const reply = encodeMetadataMessage({
            type: 'data',
            piece: request.piece,
            totalSize: infoBytes.length,
            data,
          })
          sendMessage(20, Buffer.concat([Buffer.from([theirMetadataId]), reply]))
        }
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return { port, peerId, recordings }
}

describe('on the wire before the metadata is known', () => {
  it('magnet_handshake: extension-only reserved bytes, the extension handshake first, the peer’s ut_metadata id', async () => {
    const meta = parseTorrent(await readFile(multi.torrentPath))
    const peer = await startRecordingPeer(meta.infoBytes, meta.infoHash)
    const magnet = `magnet:?xt=urn:btih:${meta.infoHash}&x.pe=127.0.0.1:${peer.port}`
    const run = await bt(['magnet_handshake', magnet], { timeoutMs: 20_000 })
    expect(run.code, describeRun(run)).toBe(0)
    expect(run.stdout).toBe(`Peer ID: ${peer.peerId.toString('hex')}\nPeer Metadata Extension ID: 3\n`)
    // The peer's side of the socket may still be reading what bt sent before it closed.
    await expect.poll(() => peer.recordings[0]?.messages[0]).toBe('20/0')
    expect(peer.recordings[0]?.reserved).toBe('0000000000100000')
  })

  it('magnet_info: only extension messages, and the same lines as bt info', async () => {
    const meta = parseTorrent(await readFile(multi.torrentPath))
    expect(meta.infoBytes.length).toBeGreaterThan(METADATA_PIECE_SIZE)
    const peer = await startRecordingPeer(meta.infoBytes, meta.infoHash)
    const magnet = `${await magnetOf(multi)}&x.pe=127.0.0.1:${peer.port}`
    const run = await bt(['magnet_info', magnet], { timeoutMs: 30_000 })
    expect(run.code, describeRun(run)).toBe(0)
    expect(run.stdout).toBe(await infoOfTorrentFile(multi))
    const [recording] = peer.recordings
    expect(recording?.reserved).toBe('0000000000100000')
    expect(recording?.messages[0]).toBe('20/0')
    // Our extension handshake, then metadata requests under the peer's id (3): nothing else.
    expect(new Set(recording?.messages)).toEqual(new Set(['20/0', '20/3']))
  })
})

describeWithTools(['py:libtorrent'], 'magnet commands against libtorrent, through a tracker', () => {
  async function startLibtorrent(fixture: TorrentFixture): Promise<void> {
    const dir = await copyOfSeedDir(fixture, `lt-${Math.random().toString(36).slice(2)}`)
    const seeder = await startLibtorrentSeeder({ torrentPath: fixture.torrentPath, savePath: dir })
    cleanups.push(() => seeder.stop())
    await waitForSeeders(tracker.httpUrl, fixture.infoHash, 1)
  }

  it('magnet_handshake prints libtorrent’s peer id and its ut_metadata id', async () => {
    await startLibtorrent(single)
    const run = await bt(['magnet_handshake', await magnetOf(single)], { timeoutMs: 30_000 })
    expect(run.code, describeRun(run)).toBe(0)
    expect(run.stdout).toMatch(/^Peer ID: 2d4c5432[0-9a-f]{32}\nPeer Metadata Extension ID: [1-9]\d*\n$/)
  }, 60_000)

  it('magnet_info prints what bt info prints for the .torrent', async () => {
    await startLibtorrent(multi)
    const run = await bt(['magnet_info', await magnetOf(multi)], { timeoutMs: 30_000 })
    expect(run.code, describeRun(run)).toBe(0)
    expect(run.stdout).toBe(await infoOfTorrentFile(multi))
  }, 60_000)

  it('magnet_download_piece and magnet_download write verified bytes', async () => {
    await startLibtorrent(single)
    const dir = await freshDir(single, 'magnet-piece')
    const magnet = await magnetOf(single)
    const piece = await bt(['magnet_download_piece', '-o', 'piece-7', magnet, '7'], {
      cwd: dir,
      timeoutMs: 30_000,
    })
    expect(piece.code, describeRun(piece)).toBe(0)
    expect(piece.stdout).toBe('Piece 7 downloaded to piece-7.\n')
    expect((await readFile(join(dir, 'piece-7'))).equals(pieceBytes(single, 7))).toBe(true)
    const whole = await bt(['magnet_download', '-o', 'whole.bin', magnet], { cwd: dir, timeoutMs: 30_000 })
    expect(whole.code, describeRun(whole)).toBe(0)
    expect(whole.stdout).toBe(`Downloaded ${magnet} to ${join(dir, 'whole.bin')}.\n`)
    expect((await readFile(join(dir, 'whole.bin'))).equals(single.data.get(single.name)!)).toBe(true)
  }, 90_000)
})

describeWithTools(['aria2c', 'transmission-cli'], 'metadata from aria2 and Transmission', () => {
  it.each([
    ['aria2', startAria2],
    ['Transmission', startTransmission],
  ] as const)(
    'magnet_info gets the metadata from %s',
    async (label, start) => {
      const dir = await copyOfSeedDir(multi, `meta-${label}`)
      const peer = await start({ torrentPath: multi.torrentPath, directory: dir })
      cleanups.push(() => peer.stop())
      // Both verify their copy before they serve it; the fetch keeps re-dialling until they answer.
      const magnet = `${await magnetOf(multi)}&x.pe=127.0.0.1:${peer.port}`
      const run = await bt(['magnet_info', magnet, '--json'], { timeoutMs: 45_000 })
      expect(run.code, describeRun(run)).toBe(0)
      expect(JSON.parse(run.stdout).infoHash).toBe(multi.infoHash)
    },
    60_000,
  )
})

describe('download and seed by magnet link with our own seeder', () => {
  it('bt download <magnet> -d DIR fetches the metadata from bt seed and downloads a multi-file torrent', async () => {
    const seed = spawnBtProcess(['seed', multi.torrentPath, multi.seedDir, '--host', '127.0.0.1', '--json'], {
      cwd: multi.root,
    })
    cleanups.push(async () => void (await stopBt(seed)))
    await waitForSeeders(tracker.httpUrl, multi.infoHash, 1)
    const dir = await freshDir(multi, 'magnet-download')
    const run = await bt(['download', await magnetOf(multi), '-d', dir, '--json'], { timeoutMs: 60_000 })
    expect(run.code, describeRun(run)).toBe(0)
    expect(JSON.parse(run.stdout.split('\n')[0]!)).toEqual({
      event: 'metadata',
      infoHash: multi.infoHash,
      name: 'album',
      length: multi.length,
    })
    expect(await contentDifferences(multi, dir)).toEqual([])
  }, 90_000)

  it('bt seed <magnet> DIR gets the metadata from the swarm, then serves on its own', async () => {
    const first = spawnBtProcess(
      ['seed', single.torrentPath, single.seedDir, '--host', '127.0.0.1', '--json'],
      {
        cwd: single.root,
      },
    )
    cleanups.push(async () => void (await stopBt(first)))
    const firstPort = (await seedingEvent(first)).port
    const copy = await copyOfSeedDir(single, 'magnet-seed')
    const second = spawnBtProcess(
      [
        'seed',
        await magnetOf(single),
        copy,
        '--host',
        '127.0.0.1',
        '--json',
        '--peer',
        `127.0.0.1:${firstPort}`,
      ],
      { cwd: single.root },
    )
    cleanups.push(async () => void (await stopBt(second)))
    const secondPort = (await seedingEvent(second)).port
    await stopBt(first)
    const dir = await freshDir(single, 'from-magnet-seed')
    const run = await bt(
      ['download', single.torrentPath, '-d', dir, '--peer', `127.0.0.1:${secondPort}`, '--json'],
      {
        timeoutMs: 60_000,
      },
    )
    expect(run.code, describeRun(run)).toBe(0)
    expect(await contentDifferences(single, dir)).toEqual([])
  }, 90_000)
})

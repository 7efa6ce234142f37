// A minimal BitTorrent peer over a uTP stream, for the interop tests and the benchmark: download every
// piece from a seeder and verify it, or serve pieces to a leecher, with peer-wire's PeerConnection.
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Metainfo } from '@bt/metainfo'
import { acceptPeer, openPeer, type PeerConnection } from '@bt/peer-wire'
import { type StartedProcess, startProcess } from '@bt/test-helpers'
import type { UtpConnection } from '../src/index.js'

const BLOCK = 16 * 1024
const PIPELINE = 96

export const LT_SCRIPT = fileURLToPath(
  new URL('../../../tooling/test-helpers/scripts/lt_seed.py', import.meta.url),
)

/** libtorrent speaking uTP only: the transport these tests are about. */
export const UTP_ONLY = {
  enable_incoming_utp: true,
  enable_outgoing_utp: true,
  enable_incoming_tcp: false,
  enable_outgoing_tcp: false,
}

export function ourPeerId(): Uint8Array {
  return Buffer.concat([Buffer.from('-BT0001-'), randomBytes(12)])
}

/** Downloads every piece of `metainfo` over `stream` and checks each SHA-1; resolves with the content. */
export async function downloadAll(
  stream: UtpConnection,
  metainfo: Metainfo,
): Promise<{ content: Buffer; verifiedPieces: number; remotePeerId: Uint8Array }> {
  const peer = await openPeer(
    stream,
    { host: stream.remoteAddress, port: stream.remotePort },
    { infoHash: metainfo.infoHashBytes, peerId: ourPeerId(), pieceCount: metainfo.pieceCount },
    { handshakeTimeoutMs: 10_000 },
  )
  const content = Buffer.alloc(metainfo.length)
  const blocks: { index: number; begin: number; length: number }[] = []
  for (let index = 0; index < metainfo.pieceCount; index++) {
    const pieceLength = metainfo.layout.pieceLengthAt(index)
    for (let begin = 0; begin < pieceLength; begin += BLOCK) {
      blocks.push({ index, begin, length: Math.min(BLOCK, pieceLength - begin) })
    }
  }
  const missing = new Map<number, number>()
  for (let index = 0; index < metainfo.pieceCount; index++) {
    missing.set(index, Math.ceil(metainfo.layout.pieceLengthAt(index) / BLOCK))
  }
  let next = 0
  let outstanding = 0
  let verified = 0
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      peer.close()
      reject(error)
    }
    const requestMore = () => {
      while (outstanding < PIPELINE && next < blocks.length) {
        const block = blocks[next++]!
        peer.request(block.index, block.begin, block.length)
        outstanding++
      }
    }
    peer.on('close', (reason) => {
      if (verified < metainfo.pieceCount) fail(reason ?? new Error('the seeder closed the connection'))
    })
    peer.on('message', (message) => {
      if (message.type === 'unchoke') requestMore()
      else if (message.type === 'choke') fail(new Error('the seeder choked us'))
      else if (message.type === 'piece') {
        outstanding--
        const offset = message.index * metainfo.pieceLength + message.begin
        content.set(message.block, offset)
        const left = (missing.get(message.index) ?? 0) - 1
        missing.set(message.index, left)
        if (left === 0) {
          const start = message.index * metainfo.pieceLength
          const piece = content.subarray(start, start + metainfo.layout.pieceLengthAt(message.index))
          const hash = createHash('sha1').update(piece).digest()
          if (!hash.equals(metainfo.pieceHash(message.index))) {
            fail(new Error(`piece ${message.index} failed its hash`))
            return
          }
          verified++
          if (verified === metainfo.pieceCount) {
            const remotePeerId = peer.remotePeerId
            peer.close()
            resolve({ content, verifiedPieces: verified, remotePeerId })
            return
          }
        }
        requestMore()
      }
    })
    peer.interested()
  })
}

/** Serves `content` (the torrent's bytes in file order) to one incoming leecher until it disconnects. */
export async function servePieces(
  stream: UtpConnection,
  metainfo: Metainfo,
  content: Buffer,
): Promise<PeerConnection> {
  const peer = await acceptPeer(
    stream,
    {
      findTorrent: (infoHash) =>
        Buffer.from(infoHash).equals(metainfo.infoHashBytes)
          ? { peerId: ourPeerId(), pieceCount: metainfo.pieceCount }
          : undefined,
    },
    { remoteAddress: { host: stream.remoteAddress, port: stream.remotePort }, handshakeTimeoutMs: 10_000 },
  )
  const bitfield = new Uint8Array(Math.ceil(metainfo.pieceCount / 8))
  for (let i = 0; i < metainfo.pieceCount; i++) bitfield[i >> 3]! |= 0x80 >> (i & 7)
  peer.bitfield(bitfield)
  peer.on('message', (message) => {
    if (message.type === 'interested') peer.unchoke()
    else if (message.type === 'request') {
      const offset = message.index * metainfo.pieceLength + message.begin
      peer.piece(message.index, message.begin, content.subarray(offset, offset + message.length))
    }
  })
  return peer
}

/** The torrent's content in file order, read from `savePath`. */
export async function readContent(metainfo: Metainfo, savePath: string): Promise<Buffer> {
  if (!metainfo.multiFile) return readFile(`${savePath}/${metainfo.name}`)
  const parts = await Promise.all(
    metainfo.files.map((file) =>
      file.padding
        ? Buffer.alloc(file.length)
        : readFile(`${savePath}/${metainfo.name}/${file.path.join('/')}`),
    ),
  )
  return Buffer.concat(parts)
}

export interface LibtorrentLeecher {
  process: StartedProcess
  /** Resolves with libtorrent's seconds once it has every piece; rejects if it fails or exits. */
  done: Promise<number>
}

/** Starts `lt_seed.py leech` towards `peer` (host:port) over uTP only. */
export function startLibtorrentLeecher(init: {
  torrentPath: string
  savePath: string
  host: string
  peer: string
  timeoutS?: number
}): LibtorrentLeecher {
  const args = [LT_SCRIPT, 'leech', '--torrent', init.torrentPath, '--save-path', init.savePath]
  args.push('--host', init.host, '--peer', init.peer, '--settings', JSON.stringify(UTP_ONLY))
  args.push('--timeout', `${init.timeoutS ?? 60}`)
  const process = startProcess('/usr/bin/python3', args)
  const done = new Promise<number>((resolve, reject) => {
    let buffered = ''
    process.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        try {
          const event = JSON.parse(line) as { event: string; seconds?: number; message?: string }
          if (event.event === 'done') resolve(event.seconds ?? 0)
          else if (event.event === 'error') reject(new Error(`libtorrent leecher: ${event.message}`))
        } catch {
          // stray output: the exit handler reports it
        }
      }
    })
    process.child.once('close', (code) =>
      reject(new Error(`libtorrent leecher exited with ${code}:\n${process.output()}`)),
    )
  })
  return { process, done }
}

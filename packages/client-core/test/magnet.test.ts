// Magnet links end to end on loopback: the info dictionary fetched from peers (BEP 9) — our own seeder,
// libtorrent, and liars among honest peers — then the download it unlocks.

import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import {
  createTorrent,
  type MagnetLink,
  type Metainfo,
  parseInfoDict,
  parseMagnet,
  parseTorrent,
  toMagnet,
} from '@bt/metainfo'
import { acceptPeer, createExtensionRegistry, type PeerConnection, reservedBytes } from '@bt/peer-wire'
import { createMemoryStore } from '@bt/piece-store'
import {
  describeWithTools,
  pseudoRandomBytes,
  startBittorrentTracker,
  startLibtorrentSeeder,
  withTempDir,
} from '@bt/test-helpers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Alert,
  type AnnounceRequest,
  type Client,
  createClient,
  createTrackerTransport,
  decodeMetadataMessage,
  encodeMetadataMessage,
  METADATA_PIECE_SIZE,
  magnetPeerAddresses,
  UT_METADATA,
} from '../src/index.js'
import { filledMemoryStore } from './stores.js'

// 1280 pieces of 16 KiB: a 25 KB info dictionary, so the metadata comes in two BEP 9 pieces.
const content = pseudoRandomBytes(20 * 1024 * 1024, 'magnet')
let meta: Metainfo
let torrentBytes: Uint8Array
let magnet: MagnetLink
let seeder: Client

beforeAll(async () => {
  const created = await createTorrent(
    { path: ['magnet.bin'], length: content.length, source: content },
    { pieceLength: 16 * 1024 },
  )
  torrentBytes = created.torrent
  meta = parseTorrent(torrentBytes)
  magnet = parseMagnet(toMagnet(meta))
  seeder = createClient()
  await seeder.listen({ port: 0, host: '127.0.0.1' })
  seeder.add(meta, { store: await filledMemoryStore(meta, content), seed: true, announce: false })
})

afterAll(async () => {
  await seeder?.close()
})

const local = (port: number) => ({ host: '127.0.0.1', port })

describe('metadata from our own seeder', () => {
  it('fetches the info dictionary in several pieces and verifies it', async () => {
    expect(meta.infoBytes.length).toBeGreaterThan(METADATA_PIECE_SIZE)
    const client = createClient()
    try {
      const { meta: fetched, peers } = await client.fetchMetadata(magnet, {
        peers: [local(seeder.port)],
        announce: false,
      }).done
      expect(fetched.infoHash).toBe(meta.infoHash)
      expect(Buffer.from(fetched.infoBytes).equals(Buffer.from(meta.infoBytes))).toBe(true)
      expect(fetched.pieceCount).toBe(meta.pieceCount)
      expect(peers).toContainEqual(local(seeder.port))
    } finally {
      await client.close()
    }
  })

  it('a torrent added by magnet link alone downloads to completion, verified', async () => {
    const client = createClient()
    try {
      const linkWithPeer = parseMagnet(`${toMagnet(meta)}&x.pe=127.0.0.1:${seeder.port}`)
      const { meta: fetched, peers } = await client.fetchMetadata(linkWithPeer, { announce: false }).done
      const store = createMemoryStore(fetched)
      const torrent = client.add(fetched, { store, peers, announce: false })
      await torrent.done
      const pieces = await Promise.all([...Array(fetched.pieceCount).keys()].map((i) => store.readPiece(i)))
      expect(Buffer.concat(pieces).equals(content)).toBe(true)
    } finally {
      await client.close()
    }
  })

  it('gets the metadata from a seeder that dials us (Transmission-style swarms)', async () => {
    const client = createClient()
    const dialler = createClient()
    try {
      await client.listen({ port: 0, host: '127.0.0.1' })
      const fetch = client.fetchMetadata(magnet, { announce: false })
      dialler.add(meta, {
        store: await filledMemoryStore(meta, content),
        seed: true,
        announce: false,
        peers: [local(client.port)],
      })
      const { meta: fetched } = await fetch.done
      expect(fetched.infoHash).toBe(meta.infoHash)
    } finally {
      await client.close()
      await dialler.close()
    }
  })

  it('stops cleanly when aborted with no peer to ask', async () => {
    const client = createClient()
    try {
      const controller = new AbortController()
      const fetching = client.fetchMetadata(magnet, { announce: false, signal: controller.signal }).done
      setTimeout(() => controller.abort(), 50)
      await expect(fetching).rejects.toThrow(/stopped/)
    } finally {
      await client.close()
    }
  })
})

interface MetadataPeerHandle {
  address: { host: string; port: number }
  requests: number
  close(): void
}

let nextPeerHost = 0

/** A peer that has the torrent's metadata (it says) and answers requests as `answer` decides. */
async function startMetadataPeer(
  claimedSize: number,
  answer: (piece: number) => Uint8Array,
  options: { delayMs?: (piece: number) => number; reject?: boolean } = {},
): Promise<MetadataPeerHandle> {
  const connections: PeerConnection[] = []
  // Each on its own loopback address: a ban is per IP, and the liars must not take the others down.
  const host = `127.0.0.${10 + nextPeerHost++}`
  const peer = { address: { host, port: 0 }, requests: 0, close() {} }
  const registry = createExtensionRegistry([
    {
      name: UT_METADATA,
      onMessage(conn, payload) {
        const message = decodeMetadataMessage(payload)
        if (message?.type !== 'request') return
        peer.requests++
        const reply = encodeMetadataMessage(
          options.reject
            ? { type: 'reject', piece: message.piece }
            : { type: 'data', piece: message.piece, totalSize: claimedSize, data: answer(message.piece) },
        )
        setTimeout(() => {
          if (!conn.closed) conn.sendExtended(UT_METADATA, reply)
        }, options.delayMs?.(message.piece) ?? 0)
      },
    },
  ])
  const server = createServer((socket) => {
    socket.on('error', () => {})
    acceptPeer(socket, {
      findTorrent: () => ({
        peerId: Buffer.from('-XX0001-liarliarliar'),
        reserved: reservedBytes({ extended: true }),
        extensions: registry,
        // 0: say nothing about the size (a peer without the metadata).
        extendedHandshake: claimedSize > 0 ? { metadataSize: claimedSize } : {},
      }),
    }).then(
      (conn) => connections.push(conn),
      () => {},
    )
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const address = server.address()
  peer.address.port = typeof address === 'object' && address ? address.port : 0
  peer.close = () => {
    for (const conn of connections) conn.close()
    server.close()
  }
  return peer
}

/** An honest peer that answers after the liars, so the liars' copies are complete first. */
function startSlowHonestPeer() {
  return startMetadataPeer(meta.infoBytes.length, realPiece, { delayMs: () => 300 })
}

function realPiece(piece: number): Uint8Array {
  const start = piece * METADATA_PIECE_SIZE
  return meta.infoBytes.subarray(start, Math.min(start + METADATA_PIECE_SIZE, meta.infoBytes.length))
}

type MetadataPeer = MetadataPeerHandle

/**
 * Fetches with `liar` and `honest` as the only peers: the fetch must end with the right metadata, the
 * liar banned and left out of the peers handed on. Resolves with every alert.
 */
async function fetchDespiteLiar(liar: MetadataPeer, honest: MetadataPeer): Promise<Alert[]> {
  const client = createClient()
  try {
    const fetch = client.fetchMetadata(magnet, {
      peers: [liar.address, honest.address],
      announce: false,
    })
    const alerts: Alert[] = []
    fetch.on('alert', (alert) => alerts.push(alert))
    const result = await fetch.done
    expect(alerts).toContainEqual(expect.objectContaining({ type: 'peer-banned', address: liar.address }))
    expect(alerts.filter((alert) => alert.type === 'peer-banned')).toHaveLength(1)
    expect(result.meta.infoHash).toBe(meta.infoHash)
    expect(result.peers).not.toContainEqual(liar.address)
    expect(result.peers).toContainEqual(honest.address)
    return alerts
  } finally {
    await client.close()
    liar.close()
    honest.close()
  }
}

const corrupt = (bytes: Uint8Array) => bytes.map((byte) => byte ^ 0xff)

describe('lying metadata peers', () => {
  it('drops a peer whose metadata does not hash to the info hash and finishes from an honest one', async () => {
    const liar = await startMetadataPeer(meta.infoBytes.length, (piece) => corrupt(realPiece(piece)))
    await fetchDespiteLiar(liar, await startSlowHonestPeer())
  })

  it('finds the liar when its pieces were mixed with an honest peer pieces', async () => {
    // The liar is quick with its corrupt piece 1 and slow with piece 0; the honest peer the other way
    // round: the first copy has a piece from each, fails, and each peer is then asked alone.
    const liar = await startMetadataPeer(
      meta.infoBytes.length,
      (piece) => (piece === 1 ? corrupt(realPiece(piece)) : realPiece(piece)),
      { delayMs: (piece) => (piece === 0 ? 300 : 0) },
    )
    const honest = await startMetadataPeer(meta.infoBytes.length, realPiece, {
      delayMs: (piece) => (piece === 1 ? 300 : 0),
    })
    const alerts = await fetchDespiteLiar(liar, honest)
    expect(alerts).toContainEqual(expect.objectContaining({ type: 'metadata-failed' }))
  })

  it('bans a peer that lies about metadata_size', async () => {
    const size = meta.infoBytes.length + 5000
    const padded = new Uint8Array(size)
    padded.set(meta.infoBytes)
    const liar = await startMetadataPeer(size, (piece) =>
      padded.subarray(piece * METADATA_PIECE_SIZE, Math.min((piece + 1) * METADATA_PIECE_SIZE, size)),
    )
    await fetchDespiteLiar(liar, await startSlowHonestPeer())
  })

  it('leaves a peer that rejects requests for one that answers', async () => {
    const refuser = await startMetadataPeer(meta.infoBytes.length, realPiece, { reject: true })
    const client = createClient()
    const honest = await startSlowHonestPeer()
    try {
      const fetch = client.fetchMetadata(magnet, {
        peers: [refuser.address, honest.address],
        announce: false,
      })
      const alerts: Alert[] = []
      fetch.on('alert', (alert) => alerts.push(alert))
      expect((await fetch.done).meta.infoHash).toBe(meta.infoHash)
      expect(alerts).toContainEqual({
        type: 'peer-dropped',
        address: refuser.address,
        reason: 'no-metadata',
        detail: 'rejected a metadata request',
      })
    } finally {
      await client.close()
      refuser.close()
      honest.close()
    }
  })

  it('leaves a peer that never offers the metadata for one that does', async () => {
    // A peer fetching the metadata itself: ut_metadata but no metadata_size, for as long as it likes.
    const fetcher = await startMetadataPeer(0, realPiece)
    const client = createClient()
    try {
      // The only peer at first; the honest one is added once the fetcher has been given up.
      const fetch = client.fetchMetadata(magnet, {
        peers: [fetcher.address],
        announce: false,
        metadataWaitMs: 500,
      })
      const alerts: Alert[] = []
      fetch.on('alert', (alert) => {
        alerts.push(alert)
        if (alert.type === 'peer-dropped' && alert.reason === 'no-metadata')
          fetch.addPeers([local(seeder.port)])
      })
      expect((await fetch.done).meta.infoHash).toBe(meta.infoHash)
      expect(alerts).toContainEqual({
        type: 'peer-dropped',
        address: fetcher.address,
        reason: 'no-metadata',
        detail: 'did not offer the metadata within 0.5 s',
      })
    } finally {
      await client.close()
      fetcher.close()
    }
  })

  it('rejects a claimed metadata_size over the cap without asking', async () => {
    const liar = await startMetadataPeer(64 * 1024 * 1024, () => new Uint8Array(METADATA_PIECE_SIZE))
    const alerts = await fetchDespiteLiar(liar, await startSlowHonestPeer())
    expect(alerts).toContainEqual(
      expect.objectContaining({
        type: 'peer-banned',
        reason: 'metadata-protocol',
        detail: expect.stringContaining('over 10485760'),
      }),
    )
    expect(liar.requests).toBe(0)
  })
})

describe('magnetPeerAddresses', () => {
  it('keeps the x.pe peers that are IP literals and skips host names', () => {
    const link = parseMagnet(
      `magnet:?xt=urn:btih:${meta.infoHash}&x.pe=127.0.0.1:6881&x.pe=peer.example:6881&x.pe=[::1]:51413`,
    )
    expect(magnetPeerAddresses(link)).toEqual([
      { host: '127.0.0.1', port: 6881 },
      { host: '::1', port: 51413 },
    ])
  })
})

describe('announcing a magnet link', () => {
  it('finds the seeder through a real tracker, announcing left = 1 while the size is unknown', async () => {
    const tracker = await startBittorrentTracker()
    const seedClient = createClient()
    const sent: AnnounceRequest[] = []
    const real = createTrackerTransport()
    const client = createClient({
      transport: {
        announce(url, request, options) {
          sent.push(request)
          return real.announce(url, request, options)
        },
        close: () => real.close(),
      },
    })
    try {
      await seedClient.listen({ port: 0, host: '127.0.0.1' })
      // The same info dictionary, announced to the tracker.
      const announced = parseInfoDict(meta.infoBytes, { trackers: [tracker.httpUrl] })
      seedClient.add(announced, {
        store: await filledMemoryStore(meta, content),
        seed: true,
        minAnnounceIntervalMs: 200,
      })
      // The magnet names the tracker only: the seeder has to come from its answer.
      const link = parseMagnet(
        `magnet:?xt=urn:btih:${meta.infoHash}&tr=${encodeURIComponent(tracker.httpUrl)}`,
      )
      await client.listen({ port: 0, host: '127.0.0.1' })
      const { meta: fetched } = await client.fetchMetadata(link, { minAnnounceIntervalMs: 200 }).done
      expect(fetched.infoHash).toBe(meta.infoHash)
      expect(fetched.announce).toBe(tracker.httpUrl)
      expect(sent.length).toBeGreaterThan(0)
      for (const request of sent) expect(request.left).toBe(1)
      expect(sent[0]?.event).toBe('started')
    } finally {
      await client.close()
      await seedClient.close()
      await tracker.close()
    }
  }, 30_000)
})

describeWithTools(['py:libtorrent'], 'metadata from libtorrent', () => {
  it('fetches the info dictionary from a libtorrent seeder', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'magnet.bin'), content)
      await writeFile(join(dir, 'magnet.torrent'), torrentBytes)
      const lt = await startLibtorrentSeeder({ torrentPath: join(dir, 'magnet.torrent'), savePath: dir })
      const client = createClient()
      try {
        const { meta: fetched } = await client.fetchMetadata(magnet, {
          peers: [local(lt.port)],
          announce: false,
        }).done
        expect(fetched.infoHash).toBe(meta.infoHash)
      } finally {
        await client.close()
        await lt.stop()
      }
    })
  }, 60_000)
})

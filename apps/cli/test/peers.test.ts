// `bt peers` against real trackers on loopback: a peer registered at the tracker must be listed.
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { announceOnce, createTrackerTransport, generatePeerId } from '@bt/client-core'
import { createTorrent } from '@bt/metainfo'
import {
  describeWithTools,
  type LoopbackTracker,
  startBittorrentTracker,
  startOpentracker,
  withTempDir,
} from '@bt/test-helpers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBt } from './run-bt.js'

interface TestTorrent {
  path: string
  infoHash: Uint8Array
}

/** A torrent of `payload` announcing to `announce`; the info hash depends on the payload only. */
async function writeTorrent(
  dir: string,
  announce: (string | string[])[],
  payload: Uint8Array = randomBytes(100_000),
): Promise<TestTorrent> {
  const created = await createTorrent(
    { path: ['payload.bin'], length: payload.length, source: payload },
    { announce },
  )
  const path = join(dir, `${created.infoHash}.torrent`)
  await writeFile(path, created.torrent)
  return { path, infoHash: created.infoHashBytes }
}

/** Registers a peer listening on `port` with the tracker, as another client would. */
async function registerPeer(url: string, infoHash: Uint8Array, port: number): Promise<void> {
  const transport = createTrackerTransport()
  try {
    await announceOnce(
      [[url]],
      {
        infoHash,
        peerId: generatePeerId(),
        port,
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: 'started',
        key: 1,
      },
      transport,
    )
  } finally {
    await transport.close()
  }
}

describe('bt peers with bittorrent-tracker', () => {
  let tracker: LoopbackTracker
  beforeAll(async () => {
    tracker = await startBittorrentTracker()
  })
  afterAll(async () => {
    await tracker.close()
  })

  for (const scheme of ['http', 'udp'] as const) {
    it(`lists the peers registered over ${scheme}`, async () => {
      await withTempDir(async (dir) => {
        const url = scheme === 'http' ? tracker.httpUrl : tracker.udpUrl
        const torrent = await writeTorrent(dir, [url])
        await registerPeer(url, torrent.infoHash, 41001)
        const result = await runBt(['peers', torrent.path, '--port', '41002'])
        expect(result.stderr).toBe('')
        expect(result.code).toBe(0)
        expect(result.stdout.split('\n')).toContain('127.0.0.1:41001')
        for (const line of result.stdout.trimEnd().split('\n'))
          expect(line).toMatch(/^\d+\.\d+\.\d+\.\d+:\d+$/)
      })
    })
  }

  it('falls through dead trackers to a live tier and prints --json', async () => {
    await withTempDir(async (dir) => {
      const torrent = await writeTorrent(dir, ['http://127.0.0.1:9/announce', tracker.udpUrl])
      await registerPeer(tracker.udpUrl, torrent.infoHash, 41003)
      const result = await runBt(['peers', torrent.path, '--json', '--timeout', '3'])
      expect(result.code).toBe(0)
      const json = JSON.parse(result.stdout)
      expect(json.tracker).toBe(tracker.udpUrl)
      expect(json.peers).toContain('127.0.0.1:41003')
      expect(json.interval).toBeGreaterThan(0)
    })
  })
})

describeWithTools(['opentracker'], 'bt peers with opentracker', () => {
  it('lists the peers registered over http:// and udp://', async () => {
    await withTempDir(async (dir) => {
      // opentracker only tracks whitelisted info hashes: learn the hash before starting it.
      const payload = randomBytes(100_000)
      const { infoHash } = await writeTorrent(dir, ['http://127.0.0.1:9/announce'], payload)
      const tracker = await startOpentracker([Buffer.from(infoHash).toString('hex')])
      try {
        for (const [url, port] of [
          [tracker.httpUrl, 42001],
          [tracker.udpUrl, 42002],
        ] as const) {
          const torrent = await writeTorrent(dir, [url], payload)
          await registerPeer(url, torrent.infoHash, port)
          const result = await runBt(['peers', torrent.path])
          expect(result.stderr).toBe('')
          expect(result.code).toBe(0)
          expect(result.stdout.split('\n')).toContain(`127.0.0.1:${port}`)
        }
      } finally {
        await tracker.close()
      }
    })
  })
})

describe('bt peers when no tracker answers', () => {
  it('prints each tracker error and exits 1', async () => {
    await withTempDir(async (dir) => {
      const dead = ['http://127.0.0.1:9/announce', 'wss://tracker.invalid/announce']
      const torrent = await writeTorrent(dir, dead)
      const result = await runBt(['peers', torrent.path, '--timeout', '2'])
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
      for (const url of dead) expect(result.stderr).toContain(`bt: ${url}: `)
      expect(result.stderr).toContain('all 2 trackers failed')
    })
  })
})

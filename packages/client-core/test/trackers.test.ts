// The announcer against real trackers on loopback: bittorrent-tracker (npm) over HTTP and UDP, and
// Debian's opentracker. Two announcers of one torrent must find each other; dead trackers fall through.

import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { PeerAddress } from '@bt/peer-address'
import {
  describeWithTools,
  type LoopbackTracker,
  startBittorrentTracker,
  startOpentracker,
} from '@bt/test-helpers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Announcer, createTrackerTransport, generatePeerId, type TrackerTransport } from '../src/index.js'

const DEAD_HTTP = 'http://127.0.0.1:9/announce'
const DEAD_UDP = 'udp://127.0.0.1:9'

let transport: TrackerTransport
const announcers: Announcer[] = []

beforeAll(() => {
  transport = createTrackerTransport({ udp: { retransmitBaseMs: 200, maxRetransmits: 1 } })
})
afterEach(async () => {
  await Promise.all(announcers.splice(0).map((announcer) => announcer.stop(2000)))
})
afterAll(async () => {
  await transport.close()
})

function announcerFor(infoHash: Uint8Array, port: number, tiers: string[][]): Announcer {
  const announcer = new Announcer({
    tiers,
    infoHash,
    peerId: generatePeerId(),
    port,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 1000 }),
    transport,
    requestTimeoutMs: 3000,
    minAnnounceIntervalMs: 100,
    backoff: { baseMs: 100, maxMs: 1000 },
  })
  announcers.push(announcer)
  return announcer
}

/** Starts two announcers of one torrent and waits until the second one learns the first one's port. */
async function secondSeesFirst(tiers: string[][], infoHash = randomBytes(20)): Promise<PeerAddress[]> {
  const first = announcerFor(infoHash, 40001, tiers)
  first.start()
  await once(first, 'announce')
  const second = announcerFor(infoHash, 40002, tiers)
  second.start()
  const [peers] = (await once(second, 'peers')) as [PeerAddress[]]
  return peers
}

function expectPeer(peers: PeerAddress[], port: number) {
  expect(peers).toContainEqual({ host: '127.0.0.1', port })
}

describe('announcer with bittorrent-tracker', () => {
  let tracker: LoopbackTracker & { udp6Url: string }
  beforeAll(async () => {
    tracker = await startBittorrentTracker()
  })
  afterAll(async () => {
    await tracker.close()
  })

  it('two clients see each other over HTTP', async () => {
    expectPeer(await secondSeesFirst([[tracker.httpUrl]]), 40001)
  })

  it('two clients see each other over UDP', async () => {
    expectPeer(await secondSeesFirst([[tracker.udpUrl]]), 40001)
  })

  it('falls through dead trackers in a tier to the live one', async () => {
    const peers = await secondSeesFirst([[DEAD_HTTP, DEAD_UDP, tracker.httpUrl]])
    expectPeer(peers, 40001)
  })

  it('announces to every tier: a dead tier does not hold back a live one', async () => {
    const peers = await secondSeesFirst([[DEAD_UDP], [tracker.udpUrl]])
    expectPeer(peers, 40001)
  })

  it('sends stopped so the tracker forgets us', async () => {
    const infoHash = randomBytes(20)
    const first = announcerFor(infoHash, 40011, [[tracker.httpUrl]])
    first.start()
    await once(first, 'announce')
    await first.stop(2000)
    const second = announcerFor(infoHash, 40012, [[tracker.httpUrl]])
    second.start()
    const [response] = await once(second, 'announce')
    expect(response.peers).not.toContainEqual({ host: '127.0.0.1', port: 40011 })
  })
})

describeWithTools(['opentracker'], 'announcer with opentracker', () => {
  const infoHash = randomBytes(20)
  let tracker: LoopbackTracker
  beforeAll(async () => {
    tracker = await startOpentracker([Buffer.from(infoHash).toString('hex')])
  })
  afterAll(async () => {
    await tracker?.close()
  })

  it('two clients see each other over HTTP and UDP', async () => {
    expectPeer(await secondSeesFirst([[tracker.httpUrl]], infoHash), 40001)
    await Promise.all(announcers.splice(0).map((announcer) => announcer.stop(2000)))
    expectPeer(await secondSeesFirst([[tracker.udpUrl]], infoHash), 40001)
  })
})

describe('announcer with no working tracker', () => {
  it('reports every tracker error and keeps retrying', async () => {
    const announcer = announcerFor(randomBytes(20), 40021, [[DEAD_HTTP], ['wss://tracker.invalid/announce']])
    announcer.start()
    const [error] = await once(announcer, 'all-failed')
    expect(error.name).toBe('AllTrackersFailedError')
    expect(error.failures.map((f: { url: string }) => f.url).sort()).toEqual([
      DEAD_HTTP,
      'wss://tracker.invalid/announce',
    ])
    await once(announcer, 'all-failed')
  })
})

// Against Debian's opentracker, the C tracker many public trackers run, started on a free loopback port.

import { randomBytes } from 'node:crypto'
import { describeWithTools, type LoopbackTracker, startOpentracker } from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type AnnounceParams, announce, scrape, TrackerFailureError } from '../src/index.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const peerId = () => Uint8Array.from([...Buffer.from('-BT0001-'), ...randomBytes(12)])
// Bytes that break naive query encoding (+ space & = %), then random ones.
const infoHash = Uint8Array.from([0x2b, 0x20, 0x26, 0x3d, 0x25, 0x00, 0xff, ...randomBytes(13)])

function client(port: number, left: number): AnnounceParams {
  return {
    infoHash,
    peerId: peerId(),
    port,
    uploaded: 0,
    downloaded: 0,
    left,
    key: randomBytes(4).readUInt32BE(),
  }
}

describeWithTools(['opentracker'], 'opentracker over HTTP', () => {
  let tracker: LoopbackTracker
  beforeAll(async () => {
    tracker = await startOpentracker([hex(infoHash)])
  })
  afterAll(() => tracker?.close())

  it('lets two clients find each other through started, re-announce, completed, scrape and stopped', async () => {
    const url = tracker.httpUrl
    const leecher = client(7601, 1000)
    const seeder = client(7602, 0)

    const first = await announce(url, { ...leecher, event: 'started', numwant: 50 })
    expect(first.interval).toBeGreaterThan(0)
    expect(first.minInterval).toBeGreaterThan(0)
    expect(first).toMatchObject({ complete: 0, incomplete: 1 })

    const second = await announce(url, { ...seeder, event: 'started' })
    expect(second).toMatchObject({ complete: 1, incomplete: 1 })
    expect(second.peers).toContainEqual({ host: '127.0.0.1', port: 7601 })

    const again = await announce(url, { ...leecher, downloaded: 400, left: 600 })
    expect(again.peers).toContainEqual({ host: '127.0.0.1', port: 7602 })

    expect((await scrape(url, [infoHash])).get(hex(infoHash))).toEqual({
      complete: 1,
      incomplete: 1,
      downloaded: 0,
    })

    await announce(url, { ...leecher, event: 'completed', downloaded: 1000, left: 0 })
    expect((await scrape(url, [infoHash])).get(hex(infoHash))).toEqual({
      complete: 2,
      incomplete: 0,
      downloaded: 1,
    })

    await announce(url, { ...seeder, event: 'stopped' })
    expect((await scrape(url, [infoHash])).get(hex(infoHash))).toMatchObject({ complete: 1, incomplete: 0 })
    const afterStop = await announce(url, { ...leecher, left: 0 })
    expect(afterStop.peers.filter((peer) => peer.port === 7602)).toEqual([])
  })

  it('refuses a torrent that is not whitelisted with a failure reason, and leaves it out of scrapes', async () => {
    const other = randomBytes(20)
    const error = await announce(tracker.httpUrl, { ...client(7701, 1), infoHash: other }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TrackerFailureError)
    expect((error as TrackerFailureError).reason).toMatch(/not authorized/)
    const counts = await scrape(tracker.httpUrl, [other, infoHash])
    expect(counts.has(hex(other))).toBe(false)
    expect(counts.has(hex(infoHash))).toBe(true)
  })
})

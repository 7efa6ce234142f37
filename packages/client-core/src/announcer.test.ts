// Tier and scheduling logic with a scripted transport; the same Announcer against real trackers is
// covered in test/trackers.test.ts.
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { Announcer, announceOnce } from './announcer.js'
import { AllTrackersFailedError } from './errors.js'
import type { AnnounceRequest, TrackerAnnounce, TrackerTransport } from './tracker-transport.js'

type Behaviour = 'ok' | 'fail'

function scriptedTransport(behaviour: Record<string, Behaviour>) {
  const calls: { url: string; event: AnnounceRequest['event']; left: number }[] = []
  const transport: TrackerTransport = {
    async announce(url, request): Promise<TrackerAnnounce> {
      calls.push({ url, event: request.event, left: request.left })
      if (behaviour[url] !== 'ok') throw new Error(`${url} is down`)
      return { url, interval: 1800, peers: [{ host: '10.0.0.1', port: 6881 }] }
    },
    async close() {},
  }
  return { transport, calls }
}

const base = {
  infoHash: new Uint8Array(20),
  peerId: new Uint8Array(20),
  port: 6881,
  stats: () => ({ uploaded: 0, downloaded: 0, left: 100 }),
  backoff: { baseMs: 10, maxMs: 50, jitter: 0 },
}

let announcer: Announcer | undefined
afterEach(async () => {
  await announcer?.stop(100)
  announcer = undefined
})

describe('Announcer', () => {
  it('reannounce announces at once, below our re-announce floor (a user asked)', async () => {
    const { transport, calls } = scriptedTransport({ a: 'ok' })
    announcer = new Announcer({ ...base, tiers: [['a']], transport, minAnnounceIntervalMs: 60_000 })
    announcer.start()
    await once(announcer, 'announce')
    announcer.requestPeers()
    announcer.reannounce()
    await once(announcer, 'announce')
    expect(calls.map((c) => c.event)).toEqual(['started', undefined])
  })

  it('requestPeers re-announces once the re-announce floor has passed, not before', async () => {
    const { transport, calls } = scriptedTransport({ a: 'ok' })
    announcer = new Announcer({ ...base, tiers: [['a']], transport, minAnnounceIntervalMs: 200 })
    announcer.requestPeers()
    expect(calls).toEqual([])
    announcer.start()
    await once(announcer, 'announce')
    announcer.requestPeers()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(calls).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 200))
    announcer.requestPeers()
    await once(announcer, 'announce')
    expect(calls.map((c) => c.event)).toEqual(['started', undefined])
  })

  it('falls through a tier and promotes the tracker that answered', async () => {
    const { transport, calls } = scriptedTransport({ a: 'fail', b: 'ok' })
    announcer = new Announcer({ ...base, tiers: [['a', 'b']], transport, random: () => 0.999 })
    announcer.start()
    const [peers, url] = await once(announcer, 'peers')
    expect(url).toBe('b')
    expect(peers).toEqual([{ host: '10.0.0.1', port: 6881 }])
    expect(calls.map((c) => c.url)).toEqual(['a', 'b'])
    expect(calls.every((c) => c.event === 'started')).toBe(true)
    expect(announcer.status().find((s) => s.url === 'b')?.started).toBe(true)
  })

  it('announces to every tier at once by default, only falls through tiers in strict BEP 12 mode', async () => {
    const all = scriptedTransport({ a: 'ok', b: 'ok' })
    announcer = new Announcer({ ...base, tiers: [['a'], ['b']], transport: all.transport })
    announcer.start()
    await Promise.all([once(announcer, 'announce'), once(announcer, 'announce')])
    expect(all.calls.map((c) => c.url).sort()).toEqual(['a', 'b'])
    await announcer.stop(100)

    const strict = scriptedTransport({ a: 'ok', b: 'ok' })
    announcer = new Announcer({
      ...base,
      tiers: [['a'], ['b']],
      transport: strict.transport,
      announceToAllTiers: false,
    })
    announcer.start()
    await once(announcer, 'announce')
    expect(strict.calls.map((c) => c.url)).toEqual(['a'])
  })

  it('reports when every tracker fails, then keeps retrying with back-off', async () => {
    const { transport, calls } = scriptedTransport({ a: 'fail', b: 'fail' })
    announcer = new Announcer({ ...base, tiers: [['a'], ['b']], transport })
    announcer.start()
    const [error] = await once(announcer, 'all-failed')
    expect(error).toBeInstanceOf(AllTrackersFailedError)
    expect((error as AllTrackersFailedError).failures.map((f) => f.url).sort()).toEqual(['a', 'b'])
    for (let round = 0; round < 10 && !announcer.status().every((s) => s.failures >= 3); round++) {
      await once(announcer, 'all-failed')
    }
    expect(announcer.status().every((s) => s.failures >= 3)).toBe(true)
    expect(calls.length).toBeGreaterThanOrEqual(6)
  })

  it('sends completed to trackers that know us and stopped on stop', async () => {
    const { transport, calls } = scriptedTransport({ a: 'ok' })
    announcer = new Announcer({ ...base, tiers: [['a']], transport })
    announcer.start()
    await once(announcer, 'announce')
    announcer.completed()
    await once(announcer, 'announce')
    await announcer.stop(100)
    expect(calls.map((c) => c.event)).toEqual(['started', 'completed', 'stopped'])
  })

  it('sends nothing on stop to trackers that never answered', async () => {
    const { transport, calls } = scriptedTransport({ a: 'fail' })
    announcer = new Announcer({ ...base, tiers: [['a']], transport })
    announcer.start()
    await once(announcer, 'all-failed')
    await announcer.stop(100)
    expect(calls.every((c) => c.event === 'started')).toBe(true)
  })
})

describe('announceOnce', () => {
  it('tries trackers in tier order until one answers', async () => {
    const { transport, calls } = scriptedTransport({ a: 'fail', b: 'fail', c: 'ok' })
    const response = await announceOnce([['a', 'b'], ['c']], { ...base, ...base.stats(), key: 1 }, transport)
    expect(response.url).toBe('c')
    expect(calls.map((c) => c.url)).toEqual(['a', 'b', 'c'])
  })

  it('throws every tracker error when none answers', async () => {
    const { transport } = scriptedTransport({})
    const attempt = announceOnce([['a'], ['b']], { ...base, ...base.stats(), key: 1 }, transport)
    await expect(attempt).rejects.toMatchObject({
      name: 'AllTrackersFailedError',
      failures: [{ url: 'a' }, { url: 'b' }],
    })
  })
})

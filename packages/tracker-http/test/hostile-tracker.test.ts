// Every way a tracker can misbehave over HTTP ends in a typed error, within the timeout, without a crash.
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AnnounceOptions,
  type AnnounceParams,
  announce,
  ScrapeNotSupportedError,
  scrape,
  TrackerBodyTooLargeError,
  TrackerConnectionError,
  TrackerFailureError,
  TrackerHttpStatusError,
  TrackerRedirectError,
  TrackerResponseError,
  TrackerTimeoutError,
  TrackerUrlError,
} from '../src/index.js'
import { type HostileTracker, OK_INFO_HASH, OK_PEER, startHostileTracker } from './hostile-tracker.js'

const TIMEOUT = 600
const params: AnnounceParams = {
  infoHash: randomBytes(20),
  peerId: randomBytes(20),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 1,
}

let tracker: HostileTracker
beforeAll(async () => {
  tracker = await startHostileTracker()
})
afterAll(() => tracker.close())

/** Announces to `/<route>/announce` and returns the rejection and how long it took. */
async function failure(
  route: string,
  options: AnnounceOptions = {},
): Promise<{ error: unknown; ms: number }> {
  const started = performance.now()
  const error = await announce(tracker.url(`/${route}/announce`), params, {
    timeout: TIMEOUT,
    ...options,
  }).then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  )
  return { error, ms: performance.now() - started }
}

describe('a hostile HTTP tracker', () => {
  it('answers correctly on the control route', async () => {
    const response = await announce(tracker.url('/ok/announce'), params, { timeout: TIMEOUT })
    expect(response).toEqual({ interval: 60, peers: [OK_PEER] })
  })

  const misbehaviours: [string, new (...args: never[]) => Error, object][] = [
    ['failure', TrackerFailureError, { reason: 'go away now' }],
    ['garbage', TrackerResponseError, {}],
    ['not-a-dict', TrackerResponseError, {}],
    ['bad-interval', TrackerResponseError, { field: 'interval' }],
    ['empty', TrackerResponseError, {}],
    ['status', TrackerHttpStatusError, { status: 503, statusText: 'Service Unavailable' }],
    ['nowhere', TrackerHttpStatusError, { status: 404 }],
    ['loop', TrackerRedirectError, { redirects: 5 }],
    ['hop/6', TrackerRedirectError, { redirects: 5 }],
    ['ftp', TrackerRedirectError, { location: 'ftp://127.0.0.1/announce' }],
    ['no-location', TrackerRedirectError, { location: undefined }],
    ['truncated', TrackerConnectionError, {}],
    ['truncated-chunked', TrackerConnectionError, {}],
    ['reset', TrackerConnectionError, {}],
    ['huge-declared', TrackerBodyTooLargeError, { limit: 2 * 1024 * 1024 }],
    ['flood', TrackerBodyTooLargeError, { limit: 2 * 1024 * 1024 }],
  ]
  it.each(misbehaviours.map(([route, type, fields]) => [route, type.name, type, fields] as const))(
    '%s → %s, well within the timeout',
    async (route, _name, type, fields) => {
      const { error, ms } = await failure(route)
      expect(error).toBeInstanceOf(type)
      expect(error).toMatchObject({ name: type.name, url: tracker.url(`/${route}/announce`), ...fields })
      expect((error as Error).message.startsWith('tracker-http: ')).toBe(true)
      expect(ms).toBeLessThan(TIMEOUT)
    },
  )

  it.each(['silent', 'slow-headers', 'slow-loris', 'never-ending'])(
    '%s → TrackerTimeoutError at the timeout, and the connection is dropped',
    async (route) => {
      const before = tracker.requests.length
      const { error, ms } = await failure(route)
      expect(error).toBeInstanceOf(TrackerTimeoutError)
      expect(error).toMatchObject({ name: 'TrackerTimeoutError', timeout: TIMEOUT })
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT - 20)
      expect(ms).toBeLessThan(TIMEOUT + 400)
      await tracker.clientClosed(before)
    },
  )

  it('caps the body at maxBodySize while it streams', async () => {
    const { error } = await failure('ok', { maxBodySize: 10 })
    expect(error).toMatchObject({ name: 'TrackerBodyTooLargeError', limit: 10 })
    const { error: flood } = await failure('flood', { maxBodySize: 100_000 })
    expect(flood).toMatchObject({ name: 'TrackerBodyTooLargeError', limit: 100_000 })
  })

  it('follows up to maxRedirects redirects, relative and absolute, keeping the query', async () => {
    const before = tracker.requests.length
    const response = await announce(tracker.url('/hop/5/announce?pk=1'), params, { timeout: TIMEOUT })
    expect(response.peers).toEqual([OK_PEER])
    const hops = tracker.requests.slice(before)
    expect(hops).toHaveLength(6)
    expect(hops.at(-1)).toMatch(/^\/hop\/0\/announce\?pk=1&info_hash=[^&]+&peer_id=/)
    const { error } = await failure('hop/1', { maxRedirects: 0 })
    expect(error).toMatchObject({ name: 'TrackerRedirectError', redirects: 0 })
  })

  it('keeps one deadline across redirects', async () => {
    // Each hop takes 150 ms: two fit in a second, six (900 ms) do not fit in 500 ms.
    const response = await announce(tracker.url('/slow-hop/1/announce'), params, { timeout: 1000 })
    expect(response.peers).toEqual([OK_PEER])
    const { error, ms } = await failure('slow-hop/5', { timeout: 500 })
    expect(error).toBeInstanceOf(TrackerTimeoutError)
    expect(ms).toBeLessThan(800)
  })

  it('rejects with the signal reason when aborted, before or during the request', async () => {
    const before = tracker.requests.length
    const aborted = AbortSignal.abort(new Error('not today'))
    await expect(announce(tracker.url('/ok/announce'), params, { signal: aborted })).rejects.toThrow(
      'not today',
    )
    expect(tracker.requests.length).toBe(before)

    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const started = performance.now()
    const error = await announce(tracker.url('/silent/announce'), params, {
      signal: controller.signal,
      timeout: 5000,
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'AbortError' })
    expect(performance.now() - started).toBeLessThan(1000)
    await tracker.clientClosed(before)

    const scrapeController = new AbortController()
    const pending = scrape(tracker.url('/never-ending/announce'), [OK_INFO_HASH], {
      signal: scrapeController.signal,
    })
    setTimeout(() => scrapeController.abort(new Error('enough')), 100)
    await expect(pending).rejects.toThrow('enough')
  })

  it('reports a refused connection as TrackerConnectionError', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise((resolve) => server.close(resolve))
    const error = await announce(`http://127.0.0.1:${port}/announce`, params).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TrackerConnectionError)
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('scrapes through the same code and the same failures', async () => {
    const counts = await scrape(tracker.url('/ok/announce'), [OK_INFO_HASH, randomBytes(20)], {
      timeout: TIMEOUT,
    })
    expect([...counts]).toEqual([['ab'.repeat(20), { complete: 5, incomplete: 6, downloaded: 7 }]])
    await expect(scrape(tracker.url('/garbage/announce'), [OK_INFO_HASH])).rejects.toBeInstanceOf(
      TrackerResponseError,
    )
    await expect(scrape(tracker.url('/failure/announce'), [OK_INFO_HASH])).rejects.toMatchObject({
      name: 'TrackerFailureError',
      url: tracker.url('/failure/scrape'),
    })
    await expect(
      scrape(tracker.url('/slow-loris/announce'), [OK_INFO_HASH], { timeout: 200 }),
    ).rejects.toBeInstanceOf(TrackerTimeoutError)
    const before = tracker.requests.length
    await expect(scrape(tracker.url('/ok/tracker.php'), [OK_INFO_HASH])).rejects.toBeInstanceOf(
      ScrapeNotSupportedError,
    )
    await expect(scrape('udp://127.0.0.1:1/announce', [OK_INFO_HASH])).rejects.toBeInstanceOf(TrackerUrlError)
    expect(tracker.requests.length).toBe(before)
  })

  it('survives every misbehaviour at once', async () => {
    const routes = [
      'failure',
      'garbage',
      'status',
      'loop',
      'truncated',
      'reset',
      'silent',
      'slow-loris',
      'flood',
    ]
    const results = await Promise.allSettled(
      routes.map((route) => announce(tracker.url(`/${route}/announce`), params, { timeout: TIMEOUT })),
    )
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason.name).toMatch(/^Tracker/)
    }
  })
})

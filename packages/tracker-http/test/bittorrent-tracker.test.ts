// Against bittorrent-tracker (npm), a real HTTP tracker running in process on loopback.

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describeWithTools, withTempDir } from '@bt/test-helpers'
import Server from 'bittorrent-tracker/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AnnounceParams,
  announce,
  scrape,
  scrapeUrlFor,
  TrackerConnectionError,
  TrackerFailureError,
} from '../src/index.js'
import { type HttpTracker, startHttpTracker } from './trackers.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const peerId = () => Uint8Array.from([...Buffer.from('-BT0001-'), ...randomBytes(12)])
/** Bytes that break naive query encoding: + space & = % ? # / NUL 0xff, and a few plain ones. */
const awkwardHash = () =>
  Uint8Array.from([0x2b, 0x20, 0x26, 0x3d, 0x25, 0x3f, 0x23, 0x2f, 0x00, 0xff, 0x7e, 0x41, ...randomBytes(8)])

function client(infoHash: Uint8Array, port: number, left: number): AnnounceParams {
  return { infoHash, peerId: peerId(), port, uploaded: 0, downloaded: 0, left }
}

describe('bittorrent-tracker over HTTP on 127.0.0.1', () => {
  let tracker: HttpTracker
  beforeAll(async () => {
    tracker = await startHttpTracker('127.0.0.1')
  })
  afterAll(() => tracker.close())

  it('lets two clients find each other through started, re-announce, completed, scrape and stopped', async () => {
    const url = tracker.announceUrl
    const infoHash = awkwardHash()
    const leecher = client(infoHash, 7001, 1000)
    const seeder = client(infoHash, 7002, 0)

    const first = await announce(url, { ...leecher, event: 'started' })
    expect(first.interval).toBe(600)
    expect(first.peers.filter((peer) => peer.port === 7002)).toEqual([])

    const second = await announce(url, { ...seeder, event: 'started' })
    expect(second).toMatchObject({ complete: 1, incomplete: 1 })
    expect(second.peers).toContainEqual({ host: '127.0.0.1', port: 7001 })

    const again = await announce(url, { ...leecher, uploaded: 10, downloaded: 500, left: 500 })
    expect(again.peers).toContainEqual({ host: '127.0.0.1', port: 7002 })

    const unknown = awkwardHash()
    const counts = await scrape(url, [infoHash, unknown])
    expect(counts.get(hex(infoHash))).toEqual({ complete: 1, incomplete: 1, downloaded: 1 })
    expect(counts.get(hex(unknown))).toEqual({ complete: 0, incomplete: 0, downloaded: 0 })

    await announce(url, { ...leecher, event: 'completed', downloaded: 1000, left: 0 })
    expect((await scrape(url, [infoHash])).get(hex(infoHash))).toMatchObject({ complete: 2, incomplete: 0 })

    await announce(url, { ...seeder, event: 'stopped' })
    expect((await scrape(url, [infoHash])).get(hex(infoHash))).toMatchObject({ complete: 1, incomplete: 0 })
    const afterStop = await announce(url, { ...leecher, left: 0 })
    expect(afterStop.peers.filter((peer) => peer.port === 7002)).toEqual([])
  })

  it('reads dictionary peers with their peer ids when compact is off', async () => {
    const infoHash = awkwardHash()
    const a = client(infoHash, 7101, 10)
    const b = client(infoHash, 7102, 10)
    await announce(tracker.announceUrl, { ...a, event: 'started', compact: false })
    const response = await announce(tracker.announceUrl, { ...b, event: 'started', compact: false })
    expect(response.peers).toContainEqual({ host: '127.0.0.1', port: 7101, peerId: a.peerId })
  })

  it('keeps the query an announce URL already has, for announce and scrape alike', async () => {
    const url = `${tracker.announceUrl}?passkey=s3cr%2Ft`
    expect(scrapeUrlFor(url)).toBe(`${tracker.announceUrl.replace(/announce$/, 'scrape')}?passkey=s3cr%2Ft`)
    const infoHash = awkwardHash()
    const response = await announce(url, {
      ...client(infoHash, 7201, 5),
      event: 'started',
      numwant: 10,
      key: 7,
    })
    expect(response.incomplete).toBe(1)
    expect((await scrape(url, [infoHash])).get(hex(infoHash))).toMatchObject({ incomplete: 1 })
  })

  it('surfaces a refusal as TrackerFailureError carrying the tracker text', async () => {
    const refusing = await startHttpTracker('127.0.0.1', {
      filter: (_infoHash, _params, callback) => callback(new Error('torrent not registered here')),
    })
    try {
      const error = await announce(refusing.announceUrl, client(awkwardHash(), 7301, 1)).catch(
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(TrackerFailureError)
      expect(error).toMatchObject({ reason: 'torrent not registered here', url: refusing.announceUrl })
    } finally {
      await refusing.close()
    }
  })
})

describe('bittorrent-tracker over HTTP on ::1', () => {
  it('returns IPv6 peers in peers6 (BEP 7)', async () => {
    const tracker = await startHttpTracker('::1')
    try {
      const infoHash = awkwardHash()
      await announce(tracker.announceUrl, { ...client(infoHash, 7401, 1), event: 'started' })
      const response = await announce(tracker.announceUrl, { ...client(infoHash, 7402, 1), event: 'started' })
      expect(response.peers).toContainEqual({ host: '::1', port: 7401 })
      expect(response.peers.every((peer) => peer.host === '::1')).toBe(true)
    } finally {
      await tracker.close()
    }
  })
})

describeWithTools(['openssl'], 'bittorrent-tracker over HTTPS', () => {
  it('announces and scrapes through TLS, and refuses an untrusted certificate', async () => {
    await withTempDir(async (dir) => {
      await promisify(execFile)('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ])
      const cert = await readFile(join(dir, 'cert.pem'))
      const key = await readFile(join(dir, 'key.pem'))
      // The tracker's own HTTP server never listens: TLS requests are handed to its request handler.
      const tracker = new Server({ http: true, udp: false, ws: false, stats: false })
      const server = https.createServer({ key, cert }, (request, response) =>
        tracker.http!.emit('request', request, response),
      )
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const agent = new https.Agent({ ca: cert })
      try {
        const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/announce`
        const infoHash = awkwardHash()
        await announce(url, { ...client(infoHash, 7501, 1), event: 'started' }, { agent: { https: agent } })
        const response = await announce(url, client(infoHash, 7502, 0), { agent: { https: agent } })
        expect(response.peers).toContainEqual({ host: '127.0.0.1', port: 7501 })
        const counts = await scrape(url, [infoHash], { agent: { https: agent } })
        expect(counts.get(hex(infoHash))).toEqual({ complete: 1, incomplete: 1, downloaded: 1 })

        const untrusted = await announce(url, client(infoHash, 7503, 1)).catch((e: unknown) => e)
        expect(untrusted).toBeInstanceOf(TrackerConnectionError)
        expect((untrusted as Error).cause).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
      } finally {
        agent.destroy()
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
        await new Promise((resolve) => tracker.close(resolve))
      }
    })
  })
})

// The one announce operation the tracker logic needs, whatever the tracker's protocol, and the
// transport that speaks HTTP(S) and UDP trackers through @bt/tracker-http and @bt/tracker-udp.
import type { PeerAddress } from '@bt/peer-address'
import { announce as announceHttp } from '@bt/tracker-http'
import { createUdpTrackerClient, type UdpTrackerClient, type UdpTrackerClientInit } from '@bt/tracker-udp'
import { UnsupportedTrackerError } from './errors.js'

export type AnnounceEvent = 'started' | 'completed' | 'stopped'

export interface AnnounceRequest {
  infoHash: Uint8Array
  peerId: Uint8Array
  port: number
  uploaded: number
  downloaded: number
  /** Bytes still needed; never 0 while we still need data (DESIGN §2). */
  left: number
  event?: AnnounceEvent
  numwant?: number
  /** Random 32-bit value identifying this client across IP changes. */
  key: number
}

export interface TrackerAnnounce {
  url: string
  /** Seconds until the tracker wants to hear from us again. */
  interval: number
  /** Seconds the tracker asks us to wait at least between announces. */
  minInterval?: number
  peers: PeerAddress[]
  seeders?: number
  leechers?: number
  warning?: string
}

export interface TrackerTransport {
  announce(url: string, request: AnnounceRequest, options: { signal: AbortSignal }): Promise<TrackerAnnounce>
  close(): Promise<void>
}

export interface TrackerTransportInit {
  udp?: UdpTrackerClientInit
}

/** A transport for http:, https: and udp: trackers; one UDP socket pair shared by every torrent. */
export function createTrackerTransport(init: TrackerTransportInit = {}): TrackerTransport {
  let udp: UdpTrackerClient | undefined
  // HTTP trackers may hand out a `tracker id` to be sent back on later announces of the same torrent.
  const trackerIds = new Map<string, Uint8Array>()
  return {
    async announce(url, request, options) {
      const scheme = url.slice(0, url.indexOf(':')).toLowerCase()
      if (scheme === 'udp') {
        udp ??= createUdpTrackerClient(init.udp)
        const response = await udp.announce(url, request, options)
        return {
          url,
          interval: response.interval,
          peers: response.peers,
          seeders: response.seeders,
          leechers: response.leechers,
        }
      }
      if (scheme === 'http' || scheme === 'https') {
        const idKey = `${url} ${Buffer.from(request.infoHash).toString('hex')}`
        const trackerId = trackerIds.get(idKey)
        const response = await announceHttp(url, { ...request, ...(trackerId ? { trackerId } : {}) }, options)
        if (response.trackerId) trackerIds.set(idKey, response.trackerId)
        return {
          url,
          interval: response.interval,
          ...(response.minInterval !== undefined ? { minInterval: response.minInterval } : {}),
          peers: response.peers.map(({ host, port }) => ({ host, port })),
          ...(response.complete !== undefined ? { seeders: response.complete } : {}),
          ...(response.incomplete !== undefined ? { leechers: response.incomplete } : {}),
          ...(response.warning !== undefined ? { warning: response.warning } : {}),
        }
      }
      throw new UnsupportedTrackerError(url)
    },
    async close() {
      await udp?.close()
    },
  }
}

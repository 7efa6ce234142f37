/// <reference types="@bt/bittorrent-tracker-types" />
// A real tracker (the bittorrent-tracker npm server) on loopback, so a seeder works with no setup and
// no network: HTTP only, bound to one address, on a system-chosen port.
import type { AddressInfo } from 'node:net'
import Server from 'bittorrent-tracker/server'

export interface LocalTracker {
  /** `http://HOST:PORT/announce` */
  readonly announceUrl: string
  close(): Promise<void>
}

export interface LocalTrackerInit {
  /** Address to bind (default `127.0.0.1`). */
  host?: string
  /** Port (default 0: any free port). */
  port?: number
  /** Re-announce interval handed to clients, in ms (default 10 minutes). */
  intervalMs?: number
}

/** Starts bittorrent-tracker's HTTP tracker; resolves once it listens. */
export function startLocalTracker(
  init: LocalTrackerInit = {},
  options: { signal?: AbortSignal } = {},
): Promise<LocalTracker> {
  options.signal?.throwIfAborted()
  const host = init.host ?? '127.0.0.1'
  const server = new Server({
    http: true,
    udp: false,
    ws: false,
    stats: false,
    interval: init.intervalMs ?? 600_000,
  })
  const close = () => new Promise<void>((done) => server.close(() => done()))
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      void close()
      reject(error)
    }
    server.once('error', onError)
    // Named per socket: a bare hostname would also be handed to the (unused) IPv6 UDP socket.
    server.listen(init.port ?? 0, { http: host }, () => {
      server.off('error', onError)
      // A client's malformed request must not bring the tracker (and the seeder) down.
      server.on('error', () => {})
      server.on('warning', () => {})
      const { port } = server.http!.address() as AddressInfo
      const hostInUrl = host.includes(':') ? `[${host}]` : host
      resolve({ announceUrl: `http://${hostInUrl}:${port}/announce`, close })
    })
  })
}

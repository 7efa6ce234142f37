// bittorrent-tracker's HTTP side alone, on the loopback address a test names (the shared helper in
// @bt/test-helpers always starts UDP too, and only on 127.0.0.1).

import type { AddressInfo } from 'node:net'
import type {} from '@bt/test-helpers' // brings in the ambient types of 'bittorrent-tracker/server'
import Server, { type ServerOptions } from 'bittorrent-tracker/server'

export interface HttpTracker {
  announceUrl: string
  close(): Promise<void>
}

/** bittorrent-tracker over HTTP on `host` (127.0.0.1 or ::1), port chosen by the system. */
export function startHttpTracker(host: string, options: ServerOptions = {}): Promise<HttpTracker> {
  const server = new Server({ udp: false, ws: false, stats: false, ...options, http: true })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, { http: host }, () => {
      const { port } = server.http!.address() as AddressInfo
      resolve({
        announceUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}/announce`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      })
    })
  })
}

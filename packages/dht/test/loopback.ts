// Helpers for tests that run several of our nodes on distinct loopback addresses (127.0.0.x).
import { createDht, type Dht, type DhtInit } from '../src/index.js'

// Our nodes live in 127.1.0.0/16, libtorrent's (test-helpers' startLibtorrentDht) in 127.0.100–199.x.
let next = Math.floor(Math.random() * 60_000)

/** A fresh loopback address per node, so per-IP limits see distinct hosts as in a real network. */
export function loopbackHost(): string {
  next = (next + 1) % 60_000
  return `127.1.${1 + Math.floor(next / 250)}.${1 + (next % 250)}`
}

export async function startNodes(count: number, init: DhtInit = {}): Promise<Dht[]> {
  const first = createDht({ host: loopbackHost(), port: 0, restrictRoutingIps: false, ...init })
  await first.start()
  const bootstrap = [`${first.address()!.host}:${first.address()!.port}`]
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, async () => {
      const dht = createDht({ host: loopbackHost(), port: 0, restrictRoutingIps: false, bootstrap, ...init })
      await dht.start()
      return dht
    }),
  )
  return [first, ...rest]
}

// Helpers for tests that run several of our nodes on distinct loopback addresses (127.0.0.x).
import { createDht, type Dht, type DhtInit } from '../src/index.js'

let nextAddress = 40 + Math.floor(Math.random() * 150)

/** A fresh loopback address per node, so per-IP limits see distinct hosts as in a real network. */
export function loopbackHost(): string {
  nextAddress = nextAddress >= 250 ? 40 : nextAddress + 1
  return `127.0.${Math.floor(Math.random() * 200) + 20}.${nextAddress}`
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

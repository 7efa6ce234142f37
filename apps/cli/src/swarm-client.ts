// The client a swarm command runs: client-core's Client listening for peers (TCP, and uTP on the same
// port number unless --no-utp) and, unless --no-dht, a DHT node on that UDP port (as libtorrent does):
// on the uTP socket itself, sharing it (the first byte tells KRPC from uTP), or on its own socket when
// uTP is off or --dht-port names another port. Its id and good nodes are kept in the state dir so the
// next run bootstraps without the routers. Under test no router is used unless named (see
// @bt/dht's bootstrapRouters), so nothing leaves loopback.
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { type Client, type ClientInit, createClient } from '@bt/client-core'
import { createDht, type Dht, loadDhtState } from '@bt/dht'
import type { CliIo } from './context.js'
import { displayText } from './output.js'
import { type DhtOptionValues, stateDirOf } from './swarm-options.js'

export interface SwarmClient {
  readonly client: Client
  readonly port: number
  readonly dht: Dht | undefined
  /** Closes the client, then saves the DHT state and closes the node; once, however often called. */
  close(): Promise<void>
}

export async function openSwarmClient(init: {
  io: CliIo
  options: DhtOptionValues
  port: number
  host?: string | undefined
  client?: ClientInit
}): Promise<SwarmClient> {
  const { io, options } = init
  const client = createClient(init.client ?? {})
  let dht: Dht | undefined
  const statePath = (() => {
    const dir = stateDirOf(options, io)
    return dir === undefined ? undefined : join(dir, 'dht.json')
  })()
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      await client.close()
      if (!dht) return
      if (statePath) {
        await mkdir(dirname(statePath), { recursive: true }).catch(() => {})
        await dht.save(statePath).catch(() => {})
      }
      await dht.close()
    })()
    return closing
  }
  try {
    const port = await client.listen({ port: init.port, ...(init.host ? { host: init.host } : {}) })
    if (options.dht !== false) {
      const state = statePath ? await loadDhtState(statePath).catch(() => undefined) : undefined
      const utp = client.utp
      const shared = utp !== undefined && (options.dhtPort === undefined || options.dhtPort === port)
      const node = createDht({
        ...(shared ? { socket: utp.datagrams() } : { port: options.dhtPort ?? port }),
        ...(init.host ? { host: init.host } : {}),
        ...(state ? { state } : {}),
        ...(options.dhtBootstrap ? { bootstrap: options.dhtBootstrap } : {}),
      })
      try {
        // Bound, not bootstrapped: a download does not wait seconds for the DHT before it dials others.
        await node.listen()
        void node.start().catch((error: unknown) => {
          // Closing during the bootstrap ends it: that is no failure to report.
          if (closing !== undefined) return
          io.stderr(`bt: DHT: ${displayText(error instanceof Error ? error.message : String(error))}\n`)
        })
        dht = node
        client.useDht(node)
      } catch (error) {
        // A DHT that cannot start (its port taken) leaves the other peer sources working.
        await node.close().catch(() => {})
        io.stderr(`bt: DHT off: ${displayText(error instanceof Error ? error.message : String(error))}\n`)
      }
    }
    return { client, port, dht, close }
  } catch (error) {
    await close()
    throw error
  }
}

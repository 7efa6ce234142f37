// Where openSwarmClient puts the DHT: on the client's uTP socket (one UDP port for both, told apart by
// the first byte), on its own socket with --dht-port or --no-utp; in each case another node reaches it
// and uTP peers still connect.
import { type Client, createClient } from '@bt/client-core'
import { createDht, type Dht } from '@bt/dht'
import { freeTcpAndUdpPort } from '@bt/test-helpers'
import { afterEach, describe, expect, it } from 'vitest'
import type { CliIo } from './context.js'
import { openSwarmClient, type SwarmClient } from './swarm-client.js'

const opened: (SwarmClient | Dht | Client)[] = []
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close()
})

function io(): CliIo {
  return {
    stdout: () => {},
    stderr: (text: string) => {
      throw new Error(`unexpected stderr: ${text}`)
    },
    stderrIsTTY: false,
    cwd: '/',
    env: {},
    readStdin: async () => new Uint8Array(0),
  }
}

async function open(host: string, options: { dhtPort?: number; utp?: boolean }) {
  const swarm = await openSwarmClient({
    io: io(),
    options: {
      dht: true,
      dhtBootstrap: [],
      ...(options.dhtPort !== undefined ? { dhtPort: options.dhtPort } : {}),
    },
    port: 0,
    host,
    client: { utp: options.utp ?? true },
  })
  opened.push(swarm)
  const other = createDht({ host: '127.0.60.39', port: 0 })
  opened.push(other)
  await other.listen()
  return { swarm, other }
}

describe('openSwarmClient: the DHT and uTP', () => {
  it('shares the uTP socket by default: one UDP port answers KRPC and uTP', async () => {
    const { swarm, other } = await open('127.0.60.30', {})
    expect(swarm.dht?.address()).toEqual({ host: '127.0.60.30', port: swarm.port })
    expect(swarm.client.utp?.address().port).toBe(swarm.port)
    expect(await other.ping({ host: '127.0.60.30', port: swarm.port })).toEqual(swarm.dht?.nodeId)
    const peer = createClient()
    opened.push(peer)
    await peer.listen({ port: 0, host: '127.0.60.38' })
    const accepted = new Promise((resolve) => swarm.client.utp?.once('connection', resolve))
    const connection = await peer.utp!.connect(swarm.port, '127.0.60.30', { timeoutMs: 5000 })
    await accepted
    connection.destroy()
    // Still a DHT node after the uTP traffic.
    expect(await other.ping({ host: '127.0.60.30', port: swarm.port })).toEqual(swarm.dht?.nodeId)
  })

  it('--dht-port elsewhere: the DHT binds that port, uTP keeps the listen port number', async () => {
    const dhtPort = await freeTcpAndUdpPort('127.0.60.31')
    const { swarm, other } = await open('127.0.60.31', { dhtPort })
    expect(swarm.dht?.address()).toEqual({ host: '127.0.60.31', port: dhtPort })
    expect(swarm.client.utp?.address().port).toBe(swarm.port)
    expect(await other.ping({ host: '127.0.60.31', port: dhtPort })).toEqual(swarm.dht?.nodeId)
  })

  it('--no-utp: no uTP socket, the DHT binds the listen port number itself', async () => {
    const { swarm, other } = await open('127.0.60.32', { utp: false })
    expect(swarm.client.utp).toBeUndefined()
    expect(swarm.dht?.address()).toEqual({ host: '127.0.60.32', port: swarm.port })
    expect(await other.ping({ host: '127.0.60.32', port: swarm.port })).toEqual(swarm.dht?.nodeId)
  })
})

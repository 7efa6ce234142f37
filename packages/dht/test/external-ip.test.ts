// BEP 42 in the node: once three nodes report the same public address in the `ip` key, our id is
// derived from it; a pinned id stays.
import { randomBytes } from 'node:crypto'
import { encode } from '@bt/bencode'
import { afterEach, describe, expect, it } from 'vitest'
import { createDht, type Dht, type DhtWarning, isSecureNodeId } from '../src/index.js'
import { type HostileNode, startHostileNode } from './hostile-node.js'
import { loopbackHost } from './loopback.js'

const running: (Dht | HostileNode)[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()))
})

const reporters = () =>
  Promise.all(
    Array.from({ length: 3 }, async () => {
      const node = await startHostileNode((query) =>
        encode({
          t: query.get('t') as Uint8Array,
          y: 'r',
          r: { id: new Uint8Array(randomBytes(20)) },
          ip: Uint8Array.of(8, 8, 8, 8, 0x1a, 0xe1),
        }),
      )
      running.push(node)
      return node
    }),
  )

describe('our external IP (BEP 42)', () => {
  it('derives a secure id once three nodes agree', async () => {
    const dht = createDht({ host: loopbackHost(), port: 0, bootstrap: [], restrictRoutingIps: false })
    running.push(dht)
    const warnings: DhtWarning[] = []
    dht.on('warning', (warning) => warnings.push(warning))
    await dht.start()
    const before = dht.nodeId
    for (const node of await reporters()) await dht.ping({ host: node.host, port: node.port })
    expect(dht.externalIp).toBe('8.8.8.8')
    expect(dht.nodeId).not.toEqual(before)
    expect(isSecureNodeId(dht.nodeId, '8.8.8.8')).toBe(true)
    expect(warnings).toContainEqual({ type: 'node-id-changed', externalIp: '8.8.8.8', id: dht.nodeId })
    expect(dht.nodes()).toHaveLength(3)
  })

  it('keeps a pinned id', async () => {
    const nodeId = new Uint8Array(randomBytes(20))
    const dht = createDht({ host: loopbackHost(), port: 0, bootstrap: [], nodeId })
    running.push(dht)
    await dht.start()
    for (const node of await reporters()) await dht.ping({ host: node.host, port: node.port })
    expect(dht.externalIp).toBe('8.8.8.8')
    expect(dht.nodeId).toEqual(nodeId)
  })
})

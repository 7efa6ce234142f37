// Our nodes among themselves on loopback: lookups, announces, tokens, persistence, read-only mode.
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createDht, type Dht, loadDhtState } from '../src/index.js'
import { loopbackHost, startNodes } from './loopback.js'

const running: Dht[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((dht) => dht.close()))
})

describe('a DHT of our own nodes', () => {
  it('announces and finds a peer; stats count queries', async () => {
    const nodes = await startNodes(12)
    running.push(...nodes)
    // A second pass of bootstrap-like lookups fills the tables.
    await Promise.all(nodes.map((dht) => dht.findNode(dht.nodeId)))
    const infoHash = new Uint8Array(randomBytes(20))
    const announcer = nodes[3]!
    const announced = await announcer.announce(infoHash, { port: 51413 })
    expect(announced.announcedTo).toBeGreaterThan(0)
    const finder = nodes[9]!
    const found: unknown[] = []
    finder.on('peer', (peer) => found.push(peer))
    const result = await finder.getPeers(infoHash)
    expect(result.peers).toContainEqual({ host: announcer.address()!.host, port: 51413 })
    expect(found).toContainEqual({ host: announcer.address()!.host, port: 51413 })
    expect(result.stats.queried).toBeGreaterThan(0)
    expect(result.stats.answered).toBeGreaterThan(0)
    expect(result.stats.answered).toBeLessThanOrEqual(result.stats.queried)
  })

  it('implied_port announces the UDP source port', async () => {
    const nodes = await startNodes(6)
    running.push(...nodes)
    const infoHash = new Uint8Array(randomBytes(20))
    await nodes[1]!.announce(infoHash, { impliedPort: true })
    const result = await nodes[4]!.getPeers(infoHash)
    expect(result.peers).toContainEqual(nodes[1]!.address())
  })

  it('aborts a lookup with its signal', async () => {
    const nodes = await startNodes(3)
    running.push(...nodes)
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(nodes[0]!.getPeers(new Uint8Array(20), { signal: controller.signal })).rejects.toThrow(
      'stop',
    )
  })

  it('saves and loads its id and good nodes, and bootstraps from them', async () => {
    const nodes = await startNodes(5)
    running.push(...nodes)
    const dir = await mkdtemp(join(tmpdir(), 'bt-dht-'))
    try {
      const path = join(dir, 'dht.json')
      await nodes[2]!.save(path)
      const state = await loadDhtState(path)
      expect(state?.id).toBe(Buffer.from(nodes[2]!.nodeId).toString('hex'))
      expect(state?.nodes.length).toBeGreaterThan(0)
      expect(JSON.parse(await readFile(path, 'utf8')).version).toBe(1)
      await nodes[2]!.close()
      // Its old address is in the others' tables, dead now: a short timeout keeps the test quick.
      const restarted = createDht({
        host: loopbackHost(),
        port: 0,
        restrictRoutingIps: false,
        state: state!,
        queryTimeoutMs: 1000,
      })
      running.push(restarted)
      await restarted.start()
      expect(restarted.nodeId).toEqual(nodes[2]!.nodeId)
      expect(restarted.stats().nodes.v4).toBeGreaterThan(0)
      expect(await loadDhtState(join(dir, 'missing.json'))).toBeUndefined()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a read-only node queries but never answers and never enters tables', async () => {
    const nodes = await startNodes(4)
    running.push(...nodes)
    const first = nodes[0]!.address()!
    const readOnly = createDht({
      host: loopbackHost(),
      port: 0,
      readOnly: true,
      restrictRoutingIps: false,
      bootstrap: [`${first.host}:${first.port}`],
      queryTimeoutMs: 1000,
    })
    running.push(readOnly)
    await readOnly.start()
    expect(readOnly.stats().nodes.v4).toBeGreaterThan(0)
    for (const dht of nodes)
      expect(dht.nodes().some((node) => node.host === readOnly.address()!.host)).toBe(false)
    await expect(nodes[1]!.ping(readOnly.address()!)).rejects.toMatchObject({ name: 'DhtQueryTimeoutError' })
  })
})

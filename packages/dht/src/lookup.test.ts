import { describe, expect, it } from 'vitest'
import type { NodeContact } from './krpc.js'
import { type LookupContact, runLookup } from './lookup.js'
import { compareDistance, randomNodeId } from './node-id.js'

const closestTo = (target: Uint8Array, nodes: NodeContact[], k: number) =>
  [...nodes].sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, k)

/** A simulated network of `size` nodes, each knowing its 16 closest nodes and `known` random others (Kademlia-like). */
function network(size: number, known = 20) {
  const nodes: NodeContact[] = Array.from({ length: size }, (_, i) => ({
    id: randomNodeId(),
    host: `10.0.${i >> 8}.${i & 0xff}`,
    port: 1,
  }))
  const tables = new Map(
    nodes.map((node) => [
      node.host,
      [
        ...closestTo(node.id, nodes, 17).slice(1),
        ...Array.from({ length: known }, () => nodes[Math.floor(Math.random() * size)]!),
      ],
    ]),
  )
  return { nodes, tables }
}

describe('iterative lookup', () => {
  it('converges on the k closest nodes of the network', async () => {
    const { nodes, tables } = network(500)
    const target = randomNodeId()
    let inFlight = 0
    let maxInFlight = 0
    const outcome = await runLookup({
      target,
      seeds: nodes.slice(0, 3),
      query: async (contact) => {
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await new Promise((resolve) => setTimeout(resolve, 1))
        inFlight--
        const node = nodes.find((n) => n.host === contact.host)!
        // Each node answers with the 8 closest to the target it knows, as a real node does.
        return { id: node.id, nodes: closestTo(target, tables.get(node.host)!, 8) }
      },
    })
    expect(maxInFlight).toBeLessThanOrEqual(3)
    expect(outcome.closest).toHaveLength(8)
    const best = closestTo(target, nodes, 8).map((n) => n.host)
    expect(outcome.closest.filter((entry) => best.includes(entry.node.host)).length).toBeGreaterThanOrEqual(6)
    // It ends once the 8 closest answered, without waiting for what is still in flight.
    expect(outcome.answered).toBeLessThanOrEqual(outcome.queried)
    expect(outcome.queried).toBeLessThan(100)
  })

  it('opens another slot after the soft timeout and ends once the rest fail', async () => {
    const target = randomNodeId()
    const seeds: LookupContact[] = Array.from({ length: 6 }, (_, i) => ({ host: `10.1.0.${i}`, port: 1 }))
    const started: number[] = []
    const t0 = Date.now()
    const outcome = await runLookup({
      target,
      seeds,
      softTimeoutMs: 50,
      query: (contact) => {
        started.push(Date.now() - t0)
        // Silent nodes: the caller's hard timeout (here 300 ms) rejects them.
        return new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout ${contact.host}`)), 300))
      },
    })
    expect(outcome).toMatchObject({ queried: 6, answered: 0, closest: [] })
    // Three at once, then more as each passes the soft timeout, long before any hard timeout.
    expect(started.slice(0, 3).every((ms) => ms < 30)).toBe(true)
    expect(started[5]!).toBeLessThan(250)
  })

  it('stops at maxQueries and honours its signal', async () => {
    const endless = (contact: LookupContact) =>
      Promise.resolve({
        id: randomNodeId(),
        nodes: Array.from({ length: 8 }, (_, i) => ({
          id: randomNodeId(),
          host: `${contact.host}.${i}`,
          port: 1,
        })),
      })
    const bounded = await runLookup({
      target: randomNodeId(),
      seeds: [{ host: 'a', port: 1 }],
      query: endless,
      maxQueries: 30,
    })
    expect(bounded.queried).toBeLessThanOrEqual(30)
    const controller = new AbortController()
    const pending = runLookup({
      target: randomNodeId(),
      seeds: [{ host: 'b', port: 1 }],
      query: () => new Promise(() => {}),
      signal: controller.signal,
    })
    controller.abort(new Error('user'))
    await expect(pending).rejects.toThrow('user')
  })
})

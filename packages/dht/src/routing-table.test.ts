import { describe, expect, it } from 'vitest'
import { commonPrefixBits, randomIdWithPrefix, randomNodeId } from './node-id.js'
import { BAD_FAILURES, createRoutingTable, GOOD_MS } from './routing-table.js'

let nextHost = 0
const host = () => {
  nextHost++
  return `10.${(nextHost >> 16) & 0xff}.${(nextHost >> 8) & 0xff}.${nextHost & 0xff}`
}
const responded = { responded: true, verified: true }

describe('routing table', () => {
  it('splits only the bucket holding our id', () => {
    const own = randomNodeId()
    const table = createRoutingTable({ id: own, restrictIps: false })
    // 8 far nodes (first bit differs) fill bucket 0; more far nodes cannot split it.
    for (let i = 0; i < 20; i++)
      table.add({ id: randomIdWithPrefix(own, 0), host: host(), port: 1 }, responded)
    expect(table.size).toBe(8)
    expect(table.bucketCount).toBe(2)
    // Nodes close to us keep splitting the near bucket.
    for (let depth = 1; depth < 12; depth++) {
      for (let i = 0; i < 8; i++)
        table.add({ id: randomIdWithPrefix(own, depth), host: host(), port: 1 }, responded)
    }
    expect(table.size).toBe(8 * 12)
    expect(table.bucketCount).toBeGreaterThanOrEqual(12)
    const closest = table.closest(own, 8)
    expect(closest).toHaveLength(8)
    for (const node of closest) expect(commonPrefixBits(node.id, own)).toBeGreaterThanOrEqual(10)
  })

  it('returns the closest nodes in order', () => {
    const own = randomNodeId()
    const table = createRoutingTable({ id: own, restrictIps: false })
    for (let i = 0; i < 200; i++) table.add({ id: randomNodeId(), host: host(), port: 1 }, responded)
    const target = randomNodeId()
    const closest = table.closest(target, 8)
    const all = table.all().sort((a, b) => {
      for (let i = 0; i < 20; i++) {
        const d = (a.id[i]! ^ target[i]!) - (b.id[i]! ^ target[i]!)
        if (d !== 0) return d
      }
      return 0
    })
    expect(closest).toEqual(all.slice(0, 8))
  })

  it('restricts one node per IP and per /24 in a bucket unless relaxed', () => {
    const own = randomNodeId()
    const strict = createRoutingTable({ id: own })
    expect(strict.add({ id: randomIdWithPrefix(own, 0), host: '10.9.9.1', port: 1 }, responded)).toBe('added')
    expect(strict.add({ id: randomIdWithPrefix(own, 0), host: '10.9.9.1', port: 2 }, responded)).toBe(
      'rejected',
    )
    expect(strict.add({ id: randomIdWithPrefix(own, 0), host: '10.9.9.2', port: 1 }, responded)).toBe(
      'rejected',
    )
    expect(strict.add({ id: randomIdWithPrefix(own, 0), host: '10.9.8.2', port: 1 }, responded)).toBe('added')
    const relaxed = createRoutingTable({ id: own, restrictIps: false })
    expect(relaxed.add({ id: randomIdWithPrefix(own, 0), host: '127.0.0.2', port: 1 }, responded)).toBe(
      'added',
    )
    expect(relaxed.add({ id: randomIdWithPrefix(own, 0), host: '127.0.0.2', port: 2 }, responded)).toBe(
      'added',
    )
    // Never two entries for one address.
    expect(relaxed.add({ id: randomIdWithPrefix(own, 0), host: '127.0.0.2', port: 2 }, responded)).toBe(
      'rejected',
    )
  })

  it('caches replacements and promotes one when a node goes bad', () => {
    const own = randomNodeId()
    const table = createRoutingTable({ id: own, restrictIps: false })
    const far = Array.from({ length: 9 }, () => ({ id: randomIdWithPrefix(own, 0), host: host(), port: 1 }))
    for (const node of far.slice(0, 8)) expect(table.add(node, responded)).toBe('added')
    table.add({ id: randomIdWithPrefix(own, 1), host: host(), port: 1 }, responded) // forces the split
    expect(table.add(far[8]!, responded)).toBe('cached')
    const victim = far[0]!
    for (let i = 0; i < BAD_FAILURES - 1; i++) expect(table.failed(victim.host, victim.port)).toBe(false)
    expect(table.failed(victim.host, victim.port)).toBe(true)
    expect(table.find(victim.host, victim.port)).toBeUndefined()
    expect(table.find(far[8]!.host, 1)).toBeDefined()
  })

  it('tracks good, questionable and bad', () => {
    let now = 1
    const own = randomNodeId()
    const table = createRoutingTable({ id: own, now: () => now })
    table.add({ id: randomNodeId(), host: '10.1.1.1', port: 1 }, responded)
    table.add({ id: randomNodeId(), host: '10.2.1.1', port: 1 }, { responded: false, verified: false })
    const [a, b] = [table.find('10.1.1.1', 1)!, table.find('10.2.1.1', 1)!]
    expect(table.state(a)).toBe('good')
    expect(table.state(b)).toBe('questionable')
    expect(table.mostQuestionable()).toBe(b)
    now += GOOD_MS
    expect(table.state(a)).toBe('questionable')
    for (let i = 0; i < BAD_FAILURES; i++) table.failed('10.1.1.1', 1)
    expect(table.state(a)).toBe('bad')
    expect(table.closest(own, 8)).toEqual([b])
    expect(table.staleBuckets(GOOD_MS)).toEqual([0])
  })

  it('prefers verified nodes when a bucket is contended', () => {
    const own = randomNodeId()
    const table = createRoutingTable({ id: own, restrictIps: false })
    table.add({ id: randomIdWithPrefix(own, 1), host: host(), port: 1 }, responded)
    const unverified = Array.from({ length: 8 }, () => ({
      id: randomIdWithPrefix(own, 0),
      host: host(),
      port: 1,
    }))
    for (const node of unverified) table.add(node, { responded: false, verified: false })
    const verified = { id: randomIdWithPrefix(own, 0), host: host(), port: 1 }
    expect(table.add(verified, responded)).toBe('added')
    expect(table.find(verified.host, 1)).toBeDefined()
  })

  it('rejects our own id, bad ports and non-IP hosts', () => {
    const own = randomNodeId()
    const table = createRoutingTable({ id: own })
    expect(table.add({ id: own, host: '10.0.0.1', port: 1 }, responded)).toBe('rejected')
    expect(table.add({ id: randomNodeId(), host: '10.0.0.1', port: 0 }, responded)).toBe('rejected')
    expect(table.add({ id: randomNodeId(), host: 'example.com', port: 1 }, responded)).toBe('rejected')
  })

  it('rebases onto a new id keeping its nodes', () => {
    const table = createRoutingTable({ id: randomNodeId(), restrictIps: false })
    for (let i = 0; i < 30; i++) table.add({ id: randomNodeId(), host: host(), port: 1 }, responded)
    const before = table.size
    table.rebase(randomNodeId())
    expect(table.size).toBeGreaterThan(0)
    expect(table.size).toBeLessThanOrEqual(before)
  })
})

import { describe, expect, it } from 'vitest'
import { createPeerStore } from './peer-store.js'

describe('peer store', () => {
  it('returns at most the asked number, of one family', () => {
    const store = createPeerStore()
    for (let i = 0; i < 250; i++) store.add('h', { host: `10.0.${i >> 8}.${i & 0xff}`, port: 6881 }, false)
    store.add('h', { host: '::1', port: 1 }, false)
    expect(store.get('h', 4, 100)).toHaveLength(100)
    expect(store.get('h', 6, 100)).toEqual([{ host: '::1', port: 1 }])
    expect(store.get('other', 4, 100)).toEqual([])
  })

  it('caps peers per info hash, in total and info hashes, evicting the oldest', () => {
    const store = createPeerStore({ maxPeersPerInfoHash: 10, maxPeers: 25, maxInfoHashes: 3 })
    for (let i = 0; i < 30; i++) store.add('a', { host: `10.0.0.${i}`, port: 1 }, false)
    expect(store.peerCount).toBe(10)
    expect(store.get('a', 4, 100).map((p) => p.host)).toContain('10.0.0.29')
    expect(store.get('a', 4, 100).map((p) => p.host)).not.toContain('10.0.0.0')
    for (const hash of ['b', 'c'])
      for (let i = 0; i < 10; i++) store.add(hash, { host: `10.0.1.${i}`, port: 1 }, false)
    expect(store.peerCount).toBeLessThanOrEqual(25)
    store.add('d', { host: '10.0.2.1', port: 1 }, false)
    expect(store.infoHashCount).toBeLessThanOrEqual(3)
    expect(store.peerCount).toBeLessThanOrEqual(25)
  })

  it('expires peers 30 minutes after their last announce', () => {
    let now = 0
    const store = createPeerStore({ now: () => now })
    store.add('h', { host: '10.0.0.1', port: 1 }, false)
    store.add('h', { host: '10.0.0.2', port: 1 }, false)
    now = 29 * 60_000
    store.add('h', { host: '10.0.0.1', port: 1 }, false)
    now = 31 * 60_000
    expect(store.get('h', 4, 100)).toEqual([{ host: '10.0.0.1', port: 1 }])
    now = 60 * 60_000
    expect(store.get('h', 4, 100)).toEqual([])
    expect(store.infoHashCount).toBe(0)
  })

  it('builds scrape bloom filters and samples info hashes', () => {
    const store = createPeerStore()
    store.add('h', { host: '10.0.0.1', port: 1 }, true)
    store.add('h', { host: '10.0.0.2', port: 1 }, false)
    const { seeds, peers } = store.scrape('h')
    expect(seeds.some((b) => b !== 0)).toBe(true)
    expect(peers.some((b) => b !== 0)).toBe(true)
    expect(store.sampleInfoHashes(20)).toEqual(['h'])
  })
})

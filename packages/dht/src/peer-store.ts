// The peers announced to us (announce_peer), per info hash: bounded per hash and in total, expiring
// 30 minutes after their last announce. Oldest entries go first when a bound is reached.
import { randomInt } from 'node:crypto'
import { isIP } from 'node:net'
import type { PeerAddress } from '@bt/peer-address'
import { bloomInsert, createBloomFilter } from './bloom-filter.js'

export const PEER_TTL_MS = 30 * 60_000

export interface PeerStoreInit {
  /** Peers kept per info hash. Default 300. */
  maxPeersPerInfoHash?: number
  /** Peers kept in all. Default 20 000. */
  maxPeers?: number
  /** Info hashes kept. Default 5 000. */
  maxInfoHashes?: number
  ttlMs?: number
  now?: () => number
}

interface StoredPeer {
  host: string
  port: number
  seed: boolean
  expires: number
}

export interface PeerStore {
  add(infoHash: string, peer: PeerAddress, seed: boolean): void
  /** Up to `max` live peers of `family`, a random sample when there are more. */
  get(infoHash: string, family: 4 | 6, max: number): PeerAddress[]
  /** BEP 33 bloom filters of the seeds' and the leechers' IPs. */
  scrape(infoHash: string): { seeds: Uint8Array; peers: Uint8Array }
  /** Up to `max` stored info hashes (binary-string keys), a random sample when there are more. */
  sampleInfoHashes(max: number): string[]
  readonly infoHashCount: number
  readonly peerCount: number
}

export function createPeerStore(init: PeerStoreInit = {}): PeerStore {
  const perHash = init.maxPeersPerInfoHash ?? 300
  const maxPeers = init.maxPeers ?? 20_000
  const maxHashes = init.maxInfoHashes ?? 5_000
  const ttl = init.ttlMs ?? PEER_TTL_MS
  const now = init.now ?? Date.now
  const hashes = new Map<string, Map<string, StoredPeer>>()
  let total = 0

  const live = (infoHash: string): Map<string, StoredPeer> | undefined => {
    const peers = hashes.get(infoHash)
    if (!peers) return undefined
    const t = now()
    // Entries are in announce order, so the expired ones are at the front.
    for (const [key, peer] of peers) {
      if (peer.expires > t) break
      peers.delete(key)
      total--
    }
    if (peers.size === 0) {
      hashes.delete(infoHash)
      return undefined
    }
    return peers
  }
  const evictOldest = () => {
    for (const [infoHash, peers] of hashes) {
      const first = peers.keys().next().value
      if (first !== undefined) {
        peers.delete(first)
        total--
      }
      if (peers.size === 0) hashes.delete(infoHash)
      return
    }
  }

  return {
    add(infoHash, peer, seed) {
      let peers = live(infoHash)
      if (!peers) {
        if (hashes.size >= maxHashes) {
          const oldest = hashes.keys().next().value
          if (oldest !== undefined) {
            total -= hashes.get(oldest)?.size ?? 0
            hashes.delete(oldest)
          }
        }
        peers = new Map()
        hashes.set(infoHash, peers)
      }
      const key = `${peer.host}|${peer.port}`
      if (peers.delete(key)) total--
      else if (peers.size >= perHash) {
        const first = peers.keys().next().value
        if (first !== undefined) {
          peers.delete(first)
          total--
        }
      }
      while (total >= maxPeers) evictOldest()
      peers.set(key, { host: peer.host, port: peer.port, seed, expires: now() + ttl })
      total++
    },
    get(infoHash, family, max) {
      const peers = live(infoHash)
      if (!peers) return []
      const matching: PeerAddress[] = []
      for (const peer of peers.values()) {
        if (isIP(peer.host) === family) matching.push({ host: peer.host, port: peer.port })
      }
      return sample(matching, max)
    },
    scrape(infoHash) {
      const seeds = createBloomFilter()
      const downloaders = createBloomFilter()
      for (const peer of live(infoHash)?.values() ?? [])
        bloomInsert(peer.seed ? seeds : downloaders, peer.host)
      return { seeds, peers: downloaders }
    },
    sampleInfoHashes(max) {
      return sample([...hashes.keys()], max)
    },
    get infoHashCount() {
      return hashes.size
    },
    get peerCount() {
      return total
    },
  }
}

/** A uniform random sample of `max` items (partial Fisher–Yates), or all of them. */
function sample<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items
  for (let i = 0; i < max; i++) {
    const j = i + randomInt(items.length - i)
    const swap = items[i]!
    items[i] = items[j]!
    items[j] = swap
  }
  return items.slice(0, max)
}

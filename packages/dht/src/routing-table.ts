// The Kademlia routing table (BEP 5): buckets of k = 8 nodes by shared prefix with our id; only the
// bucket holding our id splits. Each bucket keeps a replacement cache that fills it when a node goes
// bad. Synchronous, clock injected; it never sends anything — the node pings and refreshes from it.
import { ipToBytes } from '@bt/peer-address'
import { commonPrefixBits, compareDistance, ID_LENGTH, idEquals } from './node-id.js'

export const K = 8
/** A node that answered within this long is good (BEP 5). */
export const GOOD_MS = 15 * 60_000
/** Unanswered queries in a row that make a node bad. */
export const BAD_FAILURES = 2
const MAX_BUCKETS = ID_LENGTH * 8

export interface TableNode {
  readonly id: Uint8Array
  readonly host: string
  readonly port: number
  readonly ipBytes: Uint8Array
  /** When it last answered one of our queries; 0 when it never did. */
  lastResponse: number
  /** When we last heard from it at all (an answer, or a query after it had answered once). */
  lastActive: number
  failures: number
  /** Its id satisfies BEP 42 for its address (exempt addresses count as verified). */
  readonly verified: boolean
}

export type NodeState = 'good' | 'questionable' | 'bad'

export type AddResult = 'added' | 'updated' | 'cached' | 'rejected'

export interface RoutingTableInit {
  id: Uint8Array
  k?: number
  /**
   * One node per IP address in the table, and per bucket one per /24 (IPv4) or /64 (IPv6), as
   * libtorrent's `dht_restrict_routing_ips`. Default true; tests whose nodes share 127.0.0.0/24 turn it off.
   */
  restrictIps?: boolean
  now?: () => number
}

export interface RoutingTable {
  readonly id: Uint8Array
  readonly size: number
  readonly bucketCount: number
  /**
   * Offers a node. `responded`: it just answered one of our queries (else it queried us, or another node
   * named it). A node that never answered only takes a free slot.
   */
  add(
    contact: { id: Uint8Array; host: string; port: number },
    info: { responded: boolean; verified: boolean },
  ): AddResult
  /** A query to `host:port` went unanswered. Returns true when that made the node bad and evicted it. */
  failed(host: string, port: number): boolean
  find(host: string, port: number): TableNode | undefined
  state(node: TableNode): NodeState
  /** The `count` non-bad nodes closest to `target`, closest first. */
  closest(target: Uint8Array, count: number): TableNode[]
  /** The questionable node heard from least recently, to ping. */
  mostQuestionable(): TableNode | undefined
  /** Shared-prefix lengths of buckets unchanged for `ms` (the caller refreshes a random id in each). */
  staleBuckets(ms: number): number[]
  touchBucket(prefixBits: number): void
  all(): TableNode[]
  /** Replace our id (BEP 42 gave us a new one): the nodes are sorted into fresh buckets. */
  rebase(id: Uint8Array): void
}

interface Bucket {
  nodes: TableNode[]
  replacements: TableNode[]
  changedAt: number
}

export function createRoutingTable(init: RoutingTableInit): RoutingTable {
  const k = init.k ?? K
  const restrict = init.restrictIps ?? true
  const now = init.now ?? Date.now
  let ownId = Uint8Array.from(init.id)
  let buckets: Bucket[] = [{ nodes: [], replacements: [], changedAt: now() }]
  const byAddress = new Map<string, TableNode>()
  const byIp = new Map<string, number>()

  const addressKey = (host: string, port: number) => `${host}|${port}`
  const bucketIndex = (id: Uint8Array) => Math.min(commonPrefixBits(id, ownId), buckets.length - 1)
  const state = (node: TableNode): NodeState => {
    if (node.failures >= BAD_FAILURES) return 'bad'
    return node.lastResponse > 0 && now() - node.lastActive < GOOD_MS ? 'good' : 'questionable'
  }
  const index = (node: TableNode) => {
    byAddress.set(addressKey(node.host, node.port), node)
    byIp.set(node.host, (byIp.get(node.host) ?? 0) + 1)
  }
  const unindex = (node: TableNode) => {
    byAddress.delete(addressKey(node.host, node.port))
    const count = (byIp.get(node.host) ?? 1) - 1
    if (count <= 0) byIp.delete(node.host)
    else byIp.set(node.host, count)
  }
  const sameSubnet = (a: Uint8Array, b: Uint8Array) => {
    if (a.length !== b.length) return false
    const bytes = a.length === 4 ? 3 : 8
    for (let i = 0; i < bytes; i++) if (a[i] !== b[i]) return false
    return true
  }
  const split = () => {
    const last = buckets[buckets.length - 1]!
    const depth = buckets.length - 1
    const near: Bucket = { nodes: [], replacements: [], changedAt: now() }
    const far: Bucket = { nodes: [], replacements: [], changedAt: last.changedAt }
    for (const node of last.nodes) (commonPrefixBits(node.id, ownId) > depth ? near : far).nodes.push(node)
    for (const node of last.replacements) {
      ;(commonPrefixBits(node.id, ownId) > depth ? near : far).replacements.push(node)
    }
    buckets[depth] = far
    buckets.push(near)
  }
  const promote = (bucket: Bucket) => {
    while (bucket.nodes.length < k && bucket.replacements.length > 0) {
      // Verified and recently answered replacements first.
      bucket.replacements.sort(
        (a, b) => Number(b.verified) - Number(a.verified) || b.lastResponse - a.lastResponse,
      )
      const next = bucket.replacements.shift()!
      bucket.nodes.push(next)
      index(next)
      bucket.changedAt = now()
    }
  }
  const cache = (bucket: Bucket, node: TableNode): AddResult => {
    const existing = bucket.replacements.findIndex(
      (entry) => entry.host === node.host && entry.port === node.port,
    )
    if (existing >= 0) bucket.replacements.splice(existing, 1)
    else if (bucket.replacements.length >= k) {
      const unverified = bucket.replacements.findIndex((entry) => !entry.verified)
      if (node.verified || unverified >= 0) bucket.replacements.splice(Math.max(unverified, 0), 1)
      else return 'rejected'
    }
    bucket.replacements.push(node)
    return 'cached'
  }

  const table: RoutingTable = {
    get id() {
      return ownId
    },
    get size() {
      return byAddress.size
    },
    get bucketCount() {
      return buckets.length
    },
    add(contact, info) {
      if (contact.id.length !== ID_LENGTH || idEquals(contact.id, ownId)) return 'rejected'
      const ipBytes = ipToBytes(contact.host)
      if (!ipBytes || contact.port < 1 || contact.port > 65535) return 'rejected'
      const t = now()
      const known = byAddress.get(addressKey(contact.host, contact.port))
      if (known) {
        // Same address with another id: keep the one we know (an id change is a restart or a spoof).
        if (!idEquals(known.id, contact.id)) return 'rejected'
        if (info.responded) {
          known.lastResponse = t
          known.failures = 0
        }
        if (known.lastResponse > 0) known.lastActive = t
        buckets[bucketIndex(known.id)]!.changedAt = t
        return 'updated'
      }
      if (restrict && byIp.has(contact.host)) return 'rejected'
      const node: TableNode = {
        id: Uint8Array.from(contact.id),
        host: contact.host,
        port: contact.port,
        ipBytes,
        lastResponse: info.responded ? t : 0,
        lastActive: info.responded ? t : 0,
        failures: 0,
        verified: info.verified,
      }
      for (;;) {
        const at = bucketIndex(node.id)
        const bucket = buckets[at]!
        if (bucket.nodes.some((entry) => idEquals(entry.id, node.id))) return 'rejected'
        if (restrict && bucket.nodes.some((entry) => sameSubnet(entry.ipBytes, ipBytes))) return 'rejected'
        if (bucket.nodes.length < k) {
          bucket.nodes.push(node)
          index(node)
          bucket.changedAt = t
          return 'added'
        }
        const victim =
          bucket.nodes.findIndex((entry) => state(entry) === 'bad') >= 0
            ? bucket.nodes.findIndex((entry) => state(entry) === 'bad')
            : at === buckets.length - 1 && buckets.length < MAX_BUCKETS
              ? -2
              : info.responded
                ? bucket.nodes.findIndex(
                    (entry) =>
                      entry.lastResponse === 0 ||
                      (node.verified && !entry.verified && state(entry) !== 'good'),
                  )
                : -1
        if (victim === -2) {
          split()
          continue
        }
        if (victim < 0) return info.responded ? cache(bucket, node) : 'rejected'
        unindex(bucket.nodes[victim]!)
        bucket.nodes[victim] = node
        index(node)
        bucket.changedAt = t
        return 'added'
      }
    },
    failed(host, port) {
      const node = byAddress.get(addressKey(host, port))
      if (!node) return false
      node.failures++
      if (node.failures < BAD_FAILURES) return false
      const bucket = buckets[bucketIndex(node.id)]!
      const at = bucket.nodes.indexOf(node)
      // A bad node leaves only when a replacement can take its slot; otherwise it stays, marked bad,
      // and the next node offered for that bucket replaces it.
      if (at < 0 || bucket.replacements.length === 0) return false
      bucket.nodes.splice(at, 1)
      unindex(node)
      promote(bucket)
      return true
    },
    find(host, port) {
      return byAddress.get(addressKey(host, port))
    },
    state,
    closest(target, count) {
      const best: TableNode[] = []
      for (const bucket of buckets) {
        for (const node of bucket.nodes) {
          if (node.failures >= BAD_FAILURES) continue
          if (best.length === count && compareDistance(target, node.id, best[count - 1]!.id) >= 0) continue
          let at = best.length
          while (at > 0 && compareDistance(target, node.id, best[at - 1]!.id) < 0) at--
          best.splice(at, 0, node)
          if (best.length > count) best.pop()
        }
      }
      return best
    },
    mostQuestionable() {
      let pick: TableNode | undefined
      for (const bucket of buckets) {
        for (const node of bucket.nodes) {
          if (state(node) !== 'questionable') continue
          if (!pick || node.lastActive < pick.lastActive) pick = node
        }
      }
      return pick
    },
    staleBuckets(ms) {
      const t = now()
      const stale: number[] = []
      buckets.forEach((bucket, i) => {
        if (t - bucket.changedAt >= ms) stale.push(i)
      })
      return stale
    },
    touchBucket(prefixBits) {
      const bucket = buckets[Math.min(prefixBits, buckets.length - 1)]
      if (bucket) bucket.changedAt = now()
    },
    all() {
      return buckets.flatMap((bucket) => bucket.nodes)
    },
    rebase(id) {
      const nodes = table.all()
      ownId = Uint8Array.from(id)
      buckets = [{ nodes: [], replacements: [], changedAt: now() }]
      byAddress.clear()
      byIp.clear()
      for (const node of nodes) {
        table.add(node, { responded: node.lastResponse > 0, verified: node.verified })
        const added = byAddress.get(addressKey(node.host, node.port))
        if (added) {
          added.lastResponse = node.lastResponse
          added.lastActive = node.lastActive
        }
      }
    },
  }
  return table
}

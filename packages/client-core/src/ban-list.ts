// Who may not connect: banned IP addresses, shared by every torrent and metadata fetch of a client, for
// incoming and outgoing connections alike. A ban is on the address, not `host:port`, so a liar cannot
// come back from a new source port; it lasts a bounded time, as an address may change hands.
import { EventEmitter } from 'node:events'
import { canonicalIp } from '@bt/peer-address'

export interface BanListInit {
  /** How long a ban lasts. Default 1 hour. */
  banMs?: number
  /** Addresses kept at most; the oldest ban goes first. Default 10 000. */
  maxEntries?: number
  now?: () => number
}

export interface BanListEvents {
  /** An address was banned: whoever holds a connection from it closes it. */
  banned: [ip: string]
}

export class BanList extends EventEmitter<BanListEvents> {
  /** Canonical IP → when the ban ends; insertion order is ban order. */
  private readonly until = new Map<string, number>()
  private readonly banMs: number
  private readonly maxEntries: number
  private readonly now: () => number

  constructor(init: BanListInit = {}) {
    super()
    // Every torrent's swarm listens for bans.
    this.setMaxListeners(0)
    this.banMs = init.banMs ?? 60 * 60_000
    this.maxEntries = init.maxEntries ?? 10_000
    this.now = init.now ?? Date.now
  }

  get size(): number {
    return this.until.size
  }

  /** Bans `host` (any form of an IP address); returns false if it was banned already or is no IP. */
  ban(host: string): boolean {
    const ip = canonicalIp(host)
    if (ip === undefined || this.isBanned(ip)) return false
    this.until.delete(ip)
    if (this.until.size >= this.maxEntries) this.until.delete(this.until.keys().next().value!)
    this.until.set(ip, this.now() + this.banMs)
    this.emit('banned', ip)
    return true
  }

  isBanned(host: string): boolean {
    const ip = canonicalIp(host)
    if (ip === undefined) return false
    const until = this.until.get(ip)
    if (until === undefined) return false
    if (until > this.now()) return true
    this.until.delete(ip)
    return false
  }
}

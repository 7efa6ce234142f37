// Who lied about a piece (libtorrent's "smart ban"). When a piece fails its hash check, what each sender
// sent is remembered block by block; when the piece later passes, every sender whose block differs from
// the good data is a liar. A sole sender of a failed piece is guilty at once. Peers that sent blocks of a
// piece that passed are proven honest and never charged for a shared failure; the others are banned
// after `maxSharedFailures` failed pieces that no later evidence cleared. Synchronous and socket-free:
// keys are whatever identifies a peer to the caller (the client uses its IP address).
import { createHash } from 'node:crypto'
import { BLOCK_SIZE } from './block-requests.js'

export interface SmartBanInit {
  /** Failed pieces a sender that was never proven honest may share in before it is banned. Default 8. */
  maxSharedFailures?: number
  /** Failed pieces remembered at most (the oldest are forgotten first). Default 256. */
  maxTrackedPieces?: number
}

export interface SmartBanVerdict<K> {
  key: K
  reason: 'corrupt-data' | 'repeated-hash-failures'
  detail: string
}

/** For each block of a piece, who sent it (`undefined`: nobody yet, or it does not matter). */
export type BlockSenders<K> = readonly (K | undefined)[]

export class SmartBan<K> {
  private readonly maxSharedFailures: number
  private readonly maxTrackedPieces: number
  /** Failed piece → sender → block index → SHA-1s of what it sent there (one per failed attempt). */
  private readonly suspects = new Map<number, Map<K, Map<number, Set<string>>>>()
  /** Senders of a piece that passed: their data was right at least once. */
  private readonly honest = new Set<K>()
  /** Sender → failed pieces it shared in that nothing has cleared yet. */
  private readonly strikes = new Map<K, Set<number>>()
  private readonly guilty = new Set<K>()

  constructor(init: SmartBanInit = {}) {
    this.maxSharedFailures = init.maxSharedFailures ?? 8
    this.maxTrackedPieces = init.maxTrackedPieces ?? 256
  }

  /** Piece `index` failed its hash check with `data` from `senders`: who is guilty now. */
  pieceFailed(index: number, senders: BlockSenders<K>, data: Uint8Array): SmartBanVerdict<K>[] {
    const contributors = distinct(senders)
    const record = this.suspects.get(index) ?? new Map<K, Map<number, Set<string>>>()
    this.suspects.delete(index)
    this.suspects.set(index, record)
    if (this.suspects.size > this.maxTrackedPieces) this.suspects.delete(this.suspects.keys().next().value!)
    senders.forEach((key, block) => {
      if (key === undefined || this.guilty.has(key)) return
      const blocks = record.get(key) ?? new Map<number, Set<string>>()
      record.set(key, blocks)
      const hashes = blocks.get(block) ?? new Set<string>()
      blocks.set(block, hashes)
      hashes.add(blockHash(data, block))
    })
    if (contributors.length === 1) {
      const [key] = contributors as [K]
      if (this.guilty.has(key)) return []
      return this.convict([
        { key, reason: 'corrupt-data', detail: `sent piece ${index}, which failed its hash check` },
      ])
    }
    // A guilty co-sender is the likely culprit: the others are not charged.
    if (contributors.some((key) => this.guilty.has(key))) return []
    const verdicts: SmartBanVerdict<K>[] = []
    for (const key of contributors) {
      if (this.honest.has(key)) continue
      const pieces = this.strikes.get(key) ?? new Set<number>()
      this.strikes.set(key, pieces)
      pieces.add(index)
      if (pieces.size >= this.maxSharedFailures) {
        verdicts.push({
          key,
          reason: 'repeated-hash-failures',
          detail: `shared in ${pieces.size} pieces that failed their hash check`,
        })
      }
    }
    return this.convict(verdicts)
  }

  /** Piece `index` passed with `data` (sent by `senders`): whoever sent a different block before lied. */
  pieceVerified(index: number, senders: BlockSenders<K>, data: Uint8Array): SmartBanVerdict<K>[] {
    for (const key of distinct(senders)) {
      this.honest.add(key)
      this.strikes.get(key)?.delete(index)
    }
    const record = this.suspects.get(index)
    if (!record) return []
    this.suspects.delete(index)
    const verdicts: SmartBanVerdict<K>[] = []
    for (const [key, blocks] of record) {
      if (this.guilty.has(key)) continue
      const lied = [...blocks].some(([block, hashes]) => {
        const good = blockHash(data, block)
        return [...hashes].some((hash) => hash !== good)
      })
      if (lied)
        verdicts.push({ key, reason: 'corrupt-data', detail: `sent a corrupt block of piece ${index}` })
      else {
        // Its blocks match the good data: proven honest, this failure is not its doing.
        this.honest.add(key)
        this.strikes.get(key)?.delete(index)
      }
    }
    return this.convict(verdicts)
  }

  /**
   * `key` was banned (by a verdict here or for another reason): it is not charged again, and the others'
   * strikes for pieces it sent blocks of are cleared — it is the likely culprit of those.
   */
  banned(key: K): void {
    if (this.guilty.has(key)) return
    this.guilty.add(key)
    this.strikes.delete(key)
    for (const [index, record] of this.suspects) {
      if (!record.has(key)) continue
      for (const other of record.keys()) this.strikes.get(other)?.delete(index)
    }
  }

  private convict(verdicts: SmartBanVerdict<K>[]): SmartBanVerdict<K>[] {
    for (const verdict of verdicts) this.banned(verdict.key)
    return verdicts
  }
}

function distinct<K>(senders: BlockSenders<K>): K[] {
  const keys = new Set<K>()
  for (const key of senders) if (key !== undefined) keys.add(key)
  return [...keys]
}

function blockHash(data: Uint8Array, block: number): string {
  const begin = block * BLOCK_SIZE
  return createHash('sha1')
    .update(data.subarray(begin, begin + BLOCK_SIZE))
    .digest('hex')
}

// Web seeds (BEP 19) as sources beside the peers: one worker per `url-list` entry takes whole pieces
// from the picker (a web seed has every piece but those of files it lost), fetches them over HTTP
// (`web-seed.ts`) and hands their blocks to the torrent like a peer's. A seed that is backing off waits;
// one whose data failed the hash loses that file for the session; one that cannot serve at all stops.
import { Bitfield } from '@bt/bitfield'
import type { Metainfo } from '@bt/metainfo'
import type { Alert } from './alerts.js'
import type { Block } from './piece-picker.js'
import { createWebSeed, type WebSeed } from './web-seed.js'

/** What the picker and the smart ban know a web seed by. */
export interface WebSeedSender {
  readonly kind: 'web-seed'
  readonly url: string
  /** The smart ban's key: never an IP, so never a ban. */
  readonly ip: string
  /** Pieces it can serve (all but those of dropped files). */
  readonly has: Bitfield
  readonly seed: WebSeed
}

export interface WebSeedingHost {
  readonly meta: Metainfo
  /** Blocks to fetch from this seed now (usually one whole piece). */
  pick(sender: WebSeedSender, count: number, now: number): Block[]
  /** Requests the seed will not answer go back to the pool. */
  giveBack(sender: WebSeedSender, blocks: readonly Block[]): void
  /** A block the seed sent, taken as a peer's would be. */
  deliver(sender: WebSeedSender, index: number, begin: number, block: Uint8Array): void
  /** The seed has these pieces (the picker counts them, as a peer's bitfield). */
  available(pieces: Bitfield): void
  /** The seed lost these pieces (a dropped file). */
  unavailable(pieces: Bitfield): void
  /** Whether to keep fetching (not paused, finished or stopped). */
  wanted(): boolean
  alert(alert: Alert): void
  signal: AbortSignal
}

/** Idle pause between tries when there is nothing to fetch or the seed backs off. */
const IDLE_MS = 1000

export class WebSeeding {
  readonly senders: WebSeedSender[] = []
  private readonly host: WebSeedingHost
  /** Workers waiting in `idle`. */
  private readonly sleeping = new Set<() => void>()

  constructor(host: WebSeedingHost, urls: readonly string[]) {
    this.host = host
    for (const url of new Set(urls)) {
      const has = new Bitfield(host.meta.pieceCount)
      for (let index = 0; index < host.meta.pieceCount; index++) has.set(index)
      const seed = createWebSeed({
        url,
        meta: host.meta,
        onFileDropped: (fileIndex, reason) => {
          const range = host.meta.layout.piecesForFile(fileIndex)
          const lost = new Bitfield(host.meta.pieceCount)
          for (let index = range?.[0] ?? 0; range && index <= range[1]; index++) {
            if (has.clear(index)) lost.set(index)
          }
          if (!lost.empty) host.unavailable(lost)
          host.alert({ type: 'web-seed-dropped', url, fileIndex, reason })
        },
      })
      if (seed.state.kind === 'dropped') {
        host.alert({ type: 'web-seed-dropped', url, fileIndex: undefined, reason: seed.state.reason })
        continue
      }
      this.senders.push({ kind: 'web-seed', url, ip: `web-seed:${url}`, has, seed })
      host.available(has)
    }
  }

  start(): void {
    for (const sender of this.senders) void this.run(sender)
  }

  /** Something changed (resumed, a file wanted again): idle workers look again now. */
  poke(): void {
    for (const wake of [...this.sleeping]) wake()
  }

  /** The seed's data for `index` failed the hash: it never serves those files again this session. */
  pieceFailed(sender: WebSeedSender, index: number): void {
    for (const span of this.host.meta.layout.spansForPiece(index)) sender.seed.fileFailed(span.fileIndex)
  }

  private async run(sender: WebSeedSender): Promise<void> {
    const { host } = this
    const blocksPerPiece = Math.ceil(host.meta.pieceLength / (16 * 1024))
    while (!host.signal.aborted && sender.seed.state.kind !== 'dropped') {
      const now = Date.now()
      const blocks =
        host.wanted() && sender.seed.state.kind === 'ready' ? host.pick(sender, blocksPerPiece, now) : []
      if (blocks.length === 0) {
        await this.idle()
        continue
      }
      // One piece per request; blocks of another piece go back.
      const index = blocks[0]!.index
      const mine = blocks.filter((block) => block.index === index)
      host.giveBack(
        sender,
        blocks.filter((block) => block.index !== index),
      )
      try {
        const data = await sender.seed.fetchPieces(index, index, { signal: host.signal })
        for (const block of mine)
          host.deliver(sender, index, block.begin, data.subarray(block.begin, block.begin + block.length))
      } catch (error) {
        host.giveBack(sender, mine)
        if (host.signal.aborted) return
        host.alert({
          type: 'web-seed-failed',
          url: sender.url,
          error: error instanceof Error ? error : new Error(String(error)),
        })
        await this.idle()
      }
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.host.signal.removeEventListener('abort', done)
        this.sleeping.delete(done)
        resolve()
      }
      const timer = setTimeout(done, IDLE_MS)
      this.host.signal.addEventListener('abort', done, { once: true })
      this.sleeping.add(done)
    })
  }
}

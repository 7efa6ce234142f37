// Piece picker throughput on a large torrent (20 000 pieces of 256 KiB, 50 peers): a whole download
// driven the way the engine drives it, rarest-first piece starts on sparse peers, and availability
// updates. Run: `pnpm --filter @bt/client-core bench`.
import { Bitfield } from '@bt/bitfield'
import { type Block, type PickPeer, PiecePicker } from '../src/piece-picker.js'

const PIECES = 20_000
const PIECE_LENGTH = 256 * 1024
const PEERS = 50
const layout = { pieceLength: PIECE_LENGTH, pieceCount: PIECES, totalLength: PIECES * PIECE_LENGTH - 1000 }

/** xorshift32: the same swarm on every run, so numbers compare across runs. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}

function randomBitfield(next: () => number, density: number): Bitfield {
  const field = new Bitfield(PIECES)
  for (let index = 0; index < PIECES; index++) if (next() < density) field.set(index)
  return field
}

function report(name: string, ops: number, unit: string, ms: number, extra = ''): void {
  const perSecond = Math.round((ops * 1000) / ms).toLocaleString('en-US')
  console.log(`${name.padEnd(44)} ${perSecond.padStart(12)} ${unit}/s  (${ms.toFixed(0)} ms${extra})`)
}

/** 10 seeds and 40 peers with 60% of the pieces each; every peer keeps 64 requests in flight. */
function wholeDownload(): void {
  const next = random(0x1234567)
  const picker = new PiecePicker<number>({ layout, random: next })
  const peers: PickPeer<number>[] = []
  for (let id = 0; id < PEERS; id++) {
    if (id < 10) {
      peers.push({ id, has: 'all' })
      picker.peerHasAll()
    } else {
      const has = randomBitfield(next, 0.6)
      peers.push({ id, has })
      picker.peerHasBitfield(has)
    }
  }
  const queues = peers.map((): Block[] => [])
  const depth = 64
  let picks = 0
  let blocks = 0
  let duplicates = 0
  const heapBefore = process.memoryUsage().heapUsed
  let heapPeak = 0
  const start = performance.now()
  for (let now = 0; !picker.done; now++) {
    for (const peer of peers) {
      const queue = queues[peer.id]!
      const wanted = depth - queue.length
      if (wanted > 0) {
        picks++
        queue.push(...picker.pick(peer, wanted, now))
      }
      // Each peer delivers the front of its queue, a varying amount per round (fast and slow peers).
      const deliver = Math.min(queue.length, 1 + (peer.id % 8))
      for (const block of queue.splice(0, deliver)) {
        const receipt = picker.blockReceived(peer.id, block)
        if (!receipt.accepted) continue
        blocks++
        for (const other of receipt.cancel) {
          const otherQueue = queues[other]!
          const at = otherQueue.findIndex((b) => b.index === block.index && b.begin === block.begin)
          if (at >= 0) otherQueue.splice(at, 1)
          duplicates++
        }
        if (receipt.pieceComplete) picker.pieceVerified(block.index)
      }
    }
    if (now % 256 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - heapBefore)
  }
  const ms = performance.now() - start
  report('whole download: pick() calls', picks, 'calls', ms)
  report('whole download: blocks received', blocks, 'blocks', ms, `, ${duplicates} end-game cancels`)
  console.log(`${''.padEnd(44)} heap growth ≤ ${(heapPeak / 1e6).toFixed(1)} MB`)
}

/** Every pick starts a fresh piece (rarest first) on peers holding 5% of the pieces. */
function rarestFirstStarts(): void {
  const next = random(0x7654321)
  const picker = new PiecePicker<number>({ layout, random: next, randomFirstPieces: 0 })
  const peers: PickPeer<number>[] = []
  for (let id = 0; id < PEERS; id++) {
    const has = randomBitfield(next, 0.05)
    peers.push({ id, has })
    picker.peerHasBitfield(has)
  }
  const rounds = 200_000
  const start = performance.now()
  for (let round = 0; round < rounds; round++) {
    const peer = peers[round % PEERS]!
    const [block] = picker.pick(peer, 1, round)
    // Giving the block back returns the piece to the fresh pool: the next pick searches again.
    if (block) picker.requestFailed(peer.id, block)
  }
  report('rarest-first piece start (sparse peers)', rounds, 'picks', performance.now() - start)
}

/** A peer with half the pieces connects and leaves. */
function availabilityChurn(): void {
  const next = random(0x2468ace)
  const picker = new PiecePicker<number>({ layout, random: next })
  const fields = Array.from({ length: 8 }, () => randomBitfield(next, 0.5))
  const rounds = 400
  const start = performance.now()
  for (let round = 0; round < rounds; round++) {
    const field = fields[round % fields.length]!
    picker.peerHasBitfield(field)
    picker.peerLost(field)
  }
  report('bitfield connect + disconnect (10 000 haves)', rounds, 'peers', performance.now() - start)
}

console.log(`piece picker: ${PIECES} pieces of ${PIECE_LENGTH / 1024} KiB, ${PEERS} peers`)
wholeDownload()
rarestFirstStarts()
availabilityChurn()

import { Bitfield } from '@bt/bitfield'
import { createFileLayout } from '@bt/metainfo'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BLOCK_SIZE } from './block-requests.js'
import { type Block, filePiecePriorities, MAX_PRIORITY, type PickPeer, PiecePicker } from './piece-picker.js'

const BS = BLOCK_SIZE

function layout(pieceLength: number, totalLength: number) {
  return { pieceLength, totalLength, pieceCount: Math.ceil(totalLength / pieceLength) }
}

/** xorshift32 in [0, 1): the same sequence on every run. */
function seeded(seed: number): () => number {
  let state = seed || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}

function bits(length: number, indices: Iterable<number>): Bitfield {
  const field = new Bitfield(length)
  for (const index of indices) field.set(index)
  return field
}

const key = (block: Block) => `${block.index}:${block.begin}`

/** Picker over `pieces` pieces of 4 blocks, random-first off unless asked. */
function picker(pieces: number, init: { randomFirstPieces?: number; endGameRequesters?: number } = {}) {
  return new PiecePicker<string>({
    layout: layout(4 * BS, pieces * 4 * BS),
    randomFirstPieces: init.randomFirstPieces ?? 0,
    endGameRequesters: init.endGameRequesters,
    random: seeded(7),
  })
}

const seed = (id: string): PickPeer<string> => ({ id, has: 'all' })

/** A peer with `indices`, counted in the picker's availability as the engine would. */
function peer(p: PiecePicker<string>, id: string, indices: number[]): PickPeer<string> {
  const has = bits(p.pieceCount, indices)
  p.peerHasBitfield(has)
  return { id, has }
}

describe('PiecePicker geometry', () => {
  it('cuts pieces into 16 KiB blocks; the last block and the last piece are shorter', () => {
    const pieceLength = 3 * BS + 100
    const total = 2 * pieceLength + BS + 3616
    const p = new PiecePicker<string>({ layout: layout(pieceLength, total), random: seeded(1) })
    const blocks = p.pick(seed('a'), 100, 0)
    const sorted = blocks
      .map((b) => [b.index, b.begin, b.length])
      .sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!)
    expect(sorted).toEqual([
      [0, 0, BS],
      [0, BS, BS],
      [0, 2 * BS, BS],
      [0, 3 * BS, 100],
      [1, 0, BS],
      [1, BS, BS],
      [1, 2 * BS, BS],
      [1, 3 * BS, 100],
      [2, 0, BS],
      [2, BS, 3616],
    ])
  })

  it('rejects an inconsistent layout and wrong-sized bitfields', () => {
    expect(() => new PiecePicker({ layout: { pieceLength: BS, pieceCount: 3, totalLength: BS } })).toThrow(
      RangeError,
    )
    const p = picker(4)
    expect(() => p.peerHasBitfield(new Bitfield(5))).toThrow(RangeError)
    expect(() => p.peerHas(4)).toThrow(RangeError)
    expect(() => p.setPiecePriority(0, MAX_PRIORITY + 1)).toThrow(RangeError)
  })

  it('a torrent with verified pieces only wants the rest; with all verified it is done', () => {
    const p = new PiecePicker({ layout: layout(BS, 3 * BS), have: bits(3, [0, 2]) })
    expect(p.piecesLeft).toBe(1)
    expect(p.pick(seed('a'), 10, 0).map(key)).toEqual(['1:0'])
    const full = new PiecePicker({ layout: layout(BS, 3 * BS), have: Bitfield.full(3) })
    expect(full.done).toBe(true)
    expect(full.pick(seed('a'), 10, 0)).toEqual([])
  })
})

describe('PiecePicker order', () => {
  it('only picks pieces the peer has', () => {
    const p = picker(8)
    const has = bits(8, [3, 6])
    p.peerHasBitfield(has)
    const blocks = p.pick({ id: 'a', has }, 100, 0)
    expect(new Set(blocks.map((b) => b.index))).toEqual(new Set([3, 6]))
    expect(blocks).toHaveLength(8)
    expect(p.pick({ id: 'b', has: new Bitfield(8) }, 10, 0)).toEqual([])
  })

  it('finishes partial pieces before starting new ones', () => {
    const p = picker(8)
    const first = p.pick(seed('a'), 2, 0)
    expect(new Set(first.map((b) => b.index)).size).toBe(1)
    const started = first[0]!.index
    const next = p.pick(seed('b'), 3, 0)
    expect(next.slice(0, 2).map((b) => b.index)).toEqual([started, started])
    expect(next[2]!.index).not.toBe(started)
  })

  it('prefers the partial piece closest to fully requested', () => {
    const p = picker(8)
    const a = p.pick(peer(p, 'a', [1]), 1, 0)
    const b = p.pick(peer(p, 'b', [5]), 3, 0)
    expect(a[0]!.index).toBe(1)
    expect(b.every((x) => x.index === 5)).toBe(true)
    expect(p.pick(seed('c'), 1, 0)[0]!.index).toBe(5)
  })

  it('picks rarest first once random-first is over', () => {
    const p = picker(6)
    for (let peer = 0; peer < 3; peer++) p.peerHasAll()
    p.peerHasBitfield(bits(6, [0, 1, 2, 3, 5]))
    p.peerHasBitfield(bits(6, [0, 1, 3, 5]))
    p.peerHasBitfield(bits(6, [0, 1]))
    // availability: 0→6, 1→6, 2→4, 3→5, 4→3, 5→5
    const order: number[] = []
    for (let round = 0; round < 6; round++) {
      const blocks = p.pick(seed('s'), 4, 0)
      order.push(blocks[0]!.index)
      for (const block of blocks) p.blockReceived('s', block)
    }
    expect(order[0]).toBe(4)
    expect(order[1]).toBe(2)
    expect(new Set(order.slice(2, 4))).toEqual(new Set([3, 5]))
    expect(new Set(order.slice(4))).toEqual(new Set([0, 1]))
  })

  it('follows availability changes (have, lost peers)', () => {
    const p = picker(4)
    const peer = bits(4, [0, 1, 2])
    p.peerHasBitfield(peer)
    p.peerHas(3)
    p.peerHas(3)
    expect([0, 1, 2, 3].map((i) => p.availability(i))).toEqual([1, 1, 1, 2])
    p.peerLost(peer)
    p.peerHasAll()
    expect([0, 1, 2, 3].map((i) => p.availability(i))).toEqual([1, 1, 1, 3])
    p.peerLost('all')
    expect(p.availability(3)).toBe(2)
    expect(p.pick(seed('s'), 4, 0)[0]!.index).not.toBe(3)
  })

  it('starts with random pieces, not the rarest, until randomFirstPieces are verified', () => {
    const p = new PiecePicker<string>({
      layout: layout(BS, 100 * BS),
      randomFirstPieces: 2,
      random: () => 0.5,
    })
    // Piece 0 is the rarest: everything else is also on a second peer.
    p.peerHasAll()
    p.peerHasBitfield(
      bits(
        100,
        Array.from({ length: 99 }, (_, i) => i + 1),
      ),
    )
    const first = p.pick(seed('s'), 1, 0)[0]!
    expect(first.index).toBe(50)
    p.blockReceived('s', first)
    p.pieceVerified(50)
    const second = p.pick(seed('s'), 1, 0)[0]!
    expect(second.index).not.toBe(0)
    p.blockReceived('s', second)
    p.pieceVerified(second.index)
    expect(p.pick(seed('s'), 1, 0)[0]!.index).toBe(0)
  })

  it('higher priority beats partial pieces and rarity; skipped pieces are never picked', () => {
    const p = picker(6)
    p.peerHasBitfield(bits(6, [0, 1, 2, 3, 4]))
    p.setPiecePriority(5, 0)
    const partial = p.pick(seed('a'), 1, 0)[0]!.index
    expect(partial).not.toBe(5)
    const urgent = partial === 2 ? 3 : 2
    p.setPiecePriority(urgent, MAX_PRIORITY)
    expect(p.pick(seed('b'), 4, 0).every((b) => b.index === urgent)).toBe(true)
    const rest = p.pick(seed('c'), 100, 0)
    expect(rest.some((b) => b.index === 5)).toBe(false)
    expect(rest.slice(0, 3).every((b) => b.index === partial)).toBe(true)
  })

  it('only(index) wants that piece alone and is done when it is verified', () => {
    const p = picker(10)
    p.only(7)
    expect(p.piecesLeft).toBe(1)
    const blocks = p.pick(seed('a'), 100, 0)
    expect(blocks.map((b) => b.index)).toEqual([7, 7, 7, 7])
    for (const block of blocks.slice(0, 3)) expect(p.blockReceived('a', block).pieceComplete).toBe(false)
    expect(p.blockReceived('a', blocks[3]!).pieceComplete).toBe(true)
    p.pieceVerified(7)
    expect(p.done).toBe(true)
    expect(p.hasPiece(7)).toBe(true)
    expect(p.pick(seed('a'), 100, 0)).toEqual([])
  })

  it('derives piece priorities from file priorities (shared pieces take the highest)', () => {
    const files = createFileLayout([3 * BS, 0, 2 * BS, 3 * BS], 2 * BS)
    expect([...filePiecePriorities(files, [1, 5, 0, 2])]).toEqual([1, 1, 2, 2])
    expect([...filePiecePriorities(files, [1, 5, 0, 0])]).toEqual([1, 1, 0, 0])
    expect([...filePiecePriorities(files, [0, 0, 3, 0])]).toEqual([0, 3, 3, 0])
    expect(() => filePiecePriorities(files, [8])).toThrow(RangeError)
    const p = new PiecePicker({ layout: files, random: seeded(3) })
    p.setPiecePriorities(filePiecePriorities(files, [0, 0, 0, 1]))
    expect(new Set(p.pick(seed('a'), 100, 0).map((b) => b.index))).toEqual(new Set([2, 3]))
  })

  it('tells whether a peer is interesting', () => {
    const p = picker(4)
    p.setPiecePriority(1, 0)
    expect(p.interesting(bits(4, [1]))).toBe(false)
    expect(p.interesting(bits(4, [1, 2]))).toBe(true)
    expect(p.interesting('all')).toBe(true)
    p.only(1)
    expect(p.interesting(bits(4, [2]))).toBe(false)
  })
})

describe('PiecePicker requests', () => {
  it('never hands one block to two peers outside end-game', () => {
    const p = picker(3)
    const a = p.pick(seed('a'), 5, 0)
    const b = p.pick(seed('b'), 5, 0)
    expect(new Set([...a, ...b].map(key)).size).toBe(10)
    expect(p.endGame).toBe(false)
  })

  it('end-game duplicates outstanding blocks for other peers, fewest requesters first, and cancels', () => {
    const p = picker(1, { endGameRequesters: 2 })
    const a = p.pick(seed('a'), 3, 0)
    expect(p.endGame).toBe(false)
    const b = p.pick(seed('b'), 10, 0)
    expect(p.endGame).toBe(true)
    // b took the last free block, then duplicated a's three.
    expect(b.map(key)).toEqual(['0:49152', ...a.map(key)])
    expect(p.pick(seed('b'), 10, 0)).toEqual([])
    expect(p.pick(seed('c'), 10, 0).map(key)).toEqual(['0:49152'])
    expect(p.blockReceived('a', a[0]!)).toEqual({ accepted: true, cancel: ['b'], pieceComplete: false })
    expect(p.blockReceived('b', a[0]!).accepted).toBe(false)
    expect(p.outstanding('a')).toBe(2)
    expect(p.outstanding('b')).toBe(3)
    expect(p.blockReceived('c', b[0]!).cancel).toEqual(['b'])
    expect(p.outstanding('c')).toBe(0)
  })

  it('in end-game never duplicates to a peer lacking the piece', () => {
    const p = picker(2)
    p.pick(peer(p, 'a', [0]), 4, 0)
    p.pick(peer(p, 'b', [1]), 4, 0)
    expect(p.endGame).toBe(true)
    expect(new Set(p.pick(peer(p, 'c', [1]), 10, 0).map((b) => b.index))).toEqual(new Set([1]))
  })

  it('a failed request goes back to the pool; a late answer is still accepted', () => {
    const p = picker(1)
    const [block] = p.pick(seed('a'), 1, 0)
    p.requestFailed('a', block!)
    expect(p.outstanding('a')).toBe(0)
    expect(p.pick(seed('b'), 1, 0)).toEqual([block])
    p.requestFailed('b', block!)
    expect(p.blockReceived('a', block!)).toEqual({ accepted: true, cancel: [], pieceComplete: false })
  })

  it('expires requests older than a time, oldest first', () => {
    const p = picker(2)
    const early = p.pick(seed('a'), 2, 1000)
    const late = p.pick(seed('a'), 2, 2000)
    expect(p.oldestRequestAt('a')).toBe(1000)
    expect(p.expireRequests('a', 1500)).toEqual(early)
    expect(p.oldestRequestAt('a')).toBe(2000)
    expect(p.pick(seed('b'), 2, 3000)).toEqual(early)
    expect(p.expireRequests('a', Number.POSITIVE_INFINITY)).toEqual(late)
    expect(p.oldestRequestAt('a')).toBeUndefined()
    expect(p.outstanding('b')).toBe(2)
  })

  it('a gone peer gives its requests back, and a piece nobody works on is ranked by rarity again', () => {
    const p = picker(4)
    p.peerHasAll()
    p.peerHasBitfield(bits(4, [0, 1, 3]))
    const blocks = p.pick(seed('a'), 4, 0)
    expect(blocks.every((b) => b.index === 2)).toBe(true)
    p.peerGone('a')
    expect(p.outstanding('a')).toBe(0)
    p.peerHas(2)
    p.peerHas(2)
    // piece 2 is no longer the rarest: it went back to the fresh pool.
    expect(p.pick(seed('b'), 1, 0)[0]!.index).not.toBe(2)
  })

  it('a partially received piece stays partial when its peer leaves', () => {
    const p = picker(4)
    const blocks = p.pick(seed('a'), 4, 0)
    p.blockReceived('a', blocks[0]!)
    p.peerGone('a')
    expect(p.pick(seed('b'), 3, 0)).toEqual(blocks.slice(1))
  })

  it('rejects blocks that are not blocks of a wanted, unverified piece', () => {
    const p = picker(2)
    p.setPiecePriority(1, 0)
    const reject = { accepted: false, cancel: [], pieceComplete: false }
    expect(p.blockReceived('a', { index: 0, begin: 1, length: BS })).toEqual(reject)
    expect(p.blockReceived('a', { index: 0, begin: 0, length: BS - 1 })).toEqual(reject)
    expect(p.blockReceived('a', { index: 0, begin: 4 * BS, length: BS })).toEqual(reject)
    expect(p.blockReceived('a', { index: 2, begin: 0, length: BS })).toEqual(reject)
    expect(p.blockReceived('a', { index: -1, begin: 0, length: BS })).toEqual(reject)
    expect(p.blockReceived('a', { index: 1, begin: 0, length: BS })).toEqual(reject)
    expect(p.blockReceived('a', { index: 0, begin: 0, length: BS }).accepted).toBe(true)
    expect(p.blockReceived('a', { index: 0, begin: 0, length: BS })).toEqual(reject)
  })

  it('a hash failure wants the piece again and names its contributors', () => {
    const p = picker(1)
    const blocks = p.pick(seed('a'), 2, 0)
    blocks.push(...p.pick(seed('b'), 2, 0))
    p.blockReceived('a', blocks[0]!)
    p.blockReceived('a', blocks[1]!)
    p.blockReceived('c', blocks[2]!)
    expect(p.blockReceived('b', blocks[3]!).pieceComplete).toBe(true)
    expect(p.endGame).toBe(true)
    expect(p.pieceFailed(0).sort()).toEqual(['a', 'b', 'c'])
    expect(p.endGame).toBe(false)
    expect(p.pick(seed('d'), 10, 0)).toHaveLength(4)
    expect(p.pieceFailed(0)).toEqual([])
  })

  it('a verified piece that is lost again is wanted again', () => {
    const p = picker(2)
    p.pieceVerified(1)
    expect(p.piecesLeft).toBe(1)
    p.pieceFailed(1)
    expect(p.piecesLeft).toBe(2)
    expect(p.hasPiece(1)).toBe(false)
    expect(p.bitfield().count).toBe(0)
  })

  it('skipping a piece with requests in flight still accepts its blocks but requests no more', () => {
    const p = picker(3)
    const blocks = p.pick(peer(p, 'a', [0]), 2, 0)
    p.setPiecePriority(0, 0)
    expect(p.piecesLeft).toBe(2)
    expect(p.blockReceived('a', blocks[0]!).accepted).toBe(true)
    expect(p.pick(peer(p, 'b', [0, 1]), 10, 0).map((b) => b.index)).toEqual([1, 1, 1, 1])
    const onlyZero = peer(p, 'c', [0])
    expect(p.pick(onlyZero, 10, 0)).toEqual([])
    p.requestFailed('a', blocks[1]!)
    expect(p.pick(onlyZero, 10, 0)).toEqual([])
    p.pieceFailed(0)
    expect(p.pick(onlyZero, 10, 0)).toEqual([])
    // Then end-game: duplicates of b's requests, never piece 0.
    expect(p.pick(seed('d'), 10, 0).map((b) => b.index)).toEqual([2, 2, 2, 2, 1, 1, 1, 1])
  })
})

// A model-based run: random peers, random actions, invariants checked against a plain model after every
// step, then a driver that finishes the download.
interface Scenario {
  pieceLength: number
  totalLength: number
  priorities: number[]
  peers: { all: boolean; bits: boolean[] }[]
  actions: { kind: number; peer: number; n: number }[]
  randomFirstPieces: number
  seed: number
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    pieceLength: fc.constantFrom(BS, 2 * BS, 3 * BS + 100, 4 * BS, 5000),
    pieces: fc.integer({ min: 1, max: 12 }),
    lastShort: fc.integer({ min: 0, max: 3 * BS }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    randomFirstPieces: fc.integer({ min: 0, max: 4 }),
  })
  .chain(({ pieceLength, pieces, lastShort, seed, randomFirstPieces }) => {
    const totalLength = Math.max(1, pieces * pieceLength - (lastShort % pieceLength))
    const pieceCount = Math.ceil(totalLength / pieceLength)
    return fc.record({
      pieceLength: fc.constant(pieceLength),
      totalLength: fc.constant(totalLength),
      priorities: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: pieceCount, maxLength: pieceCount }),
      peers: fc.array(
        fc.record({
          all: fc.boolean(),
          bits: fc.array(fc.boolean(), { minLength: pieceCount, maxLength: pieceCount }),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      actions: fc.array(
        fc.record({ kind: fc.nat(10), peer: fc.nat(20), n: fc.integer({ min: 0, max: 12 }) }),
        { maxLength: 80 },
      ),
      randomFirstPieces: fc.constant(randomFirstPieces),
      seed: fc.constant(seed),
    })
  })

function runScenario(s: Scenario, failHashes: boolean) {
  const pieceCount = Math.ceil(s.totalLength / s.pieceLength)
  const p = new PiecePicker<number>({
    layout: { pieceLength: s.pieceLength, pieceCount, totalLength: s.totalLength },
    randomFirstPieces: s.randomFirstPieces,
    random: seeded(s.seed),
  })
  p.setPiecePriorities(s.priorities)
  const peers = s.peers.map((peer, id) => ({
    id,
    has: peer.all
      ? ('all' as const)
      : bits(
          pieceCount,
          peer.bits.flatMap((b, i) => (b ? [i] : [])),
        ),
  }))
  for (const peer of peers) {
    if (peer.has === 'all') p.peerHasAll()
    else p.peerHasBitfield(peer.has)
  }
  const pieceLen = (i: number) => Math.min(s.pieceLength, s.totalLength - i * s.pieceLength)
  const priority = [...s.priorities]
  const blocksOf = (i: number) =>
    Array.from({ length: Math.ceil(pieceLen(i) / BS) }, (_, b) => `${i}:${b * BS}`)
  const allBlocks = Array.from({ length: pieceCount }, (_, i) => blocksOf(i)).flat()
  const wanted = () => allBlocks.filter((k) => priority[Number(k.split(':')[0])]! > 0)
  const everPicked = new Set<number>()
  const outstanding = new Map<number, Map<string, Block>>(peers.map((peer) => [peer.id, new Map()]))
  const received = new Set<string>()
  const verified = new Set<number>()
  /** Picks of a block while it was outstanding nowhere: must be exactly one per wanted block. */
  const firstPicks = new Map<string, number>()
  let now = 0

  const freeWanted = () =>
    wanted().filter(
      (k) =>
        !received.has(k) &&
        !verified.has(Number(k.split(':')[0])) &&
        ![...outstanding.values()].some((m) => m.has(k)),
    ).length

  const doPick = (peer: (typeof peers)[number], n: number) => {
    const blocks = p.pick(peer, n, now++)
    expect(blocks.length).toBeLessThanOrEqual(n)
    let duplicated = false
    for (const block of blocks) {
      const k = key(block)
      expect(block.length).toBe(Math.min(BS, pieceLen(block.index) - block.begin))
      expect(peer.has === 'all' || peer.has.has(block.index)).toBe(true)
      expect(priority[block.index]).toBeGreaterThan(0)
      everPicked.add(block.index)
      expect(verified.has(block.index) || received.has(k)).toBe(false)
      expect(outstanding.get(peer.id)!.has(k)).toBe(false)
      const elsewhere = [...outstanding.values()].some((m) => m.has(k))
      if (elsewhere) duplicated = true
      else firstPicks.set(k, (firstPicks.get(k) ?? 0) + 1)
      outstanding.get(peer.id)!.set(k, block)
    }
    if (duplicated) {
      expect(p.endGame).toBe(true)
      expect(freeWanted()).toBe(0)
    }
    if (blocks.length < n) {
      const canHelp = wanted().some(
        (k) =>
          (peer.has === 'all' || peer.has.has(Number(k.split(':')[0]))) &&
          !received.has(k) &&
          !verified.has(Number(k.split(':')[0])) &&
          ![...outstanding.values()].some((m) => m.has(k)),
      )
      expect(canHelp).toBe(false)
    }
    return blocks.length
  }

  const deliver = (peerId: number, block: Block) => {
    const k = key(block)
    const receipt = p.blockReceived(peerId, block)
    expect(receipt.accepted).toBe(!received.has(k) && !verified.has(block.index))
    const others = [...outstanding].filter(([id, m]) => id !== peerId && m.has(k)).map(([id]) => id)
    expect(receipt.accepted ? receipt.cancel.sort() : []).toEqual(receipt.accepted ? others.sort() : [])
    for (const m of outstanding.values()) m.delete(k)
    if (receipt.accepted) received.add(k)
    const complete = receipt.accepted && blocksOf(block.index).every((w) => received.has(w))
    expect(receipt.pieceComplete).toBe(complete)
    return receipt
  }

  const finishPiece = (index: number, fail: boolean) => {
    if (fail) {
      p.pieceFailed(index)
      for (const k of [...received]) if (k.startsWith(`${index}:`)) received.delete(k)
    } else {
      p.pieceVerified(index)
      verified.add(index)
    }
  }

  const check = () => {
    for (const peer of peers) expect(p.outstanding(peer.id)).toBe(outstanding.get(peer.id)!.size)
    const left = priority.filter((pr, i) => pr > 0 && !verified.has(i)).length
    expect(p.piecesLeft).toBe(left)
    expect(p.done).toBe(left === 0)
    expect(p.endGame).toBe(left > 0 && freeWanted() === 0)
  }

  for (const action of s.actions) {
    const peer = peers[action.peer % peers.length]!
    const mine = outstanding.get(peer.id)!
    switch (action.kind) {
      case 0:
      case 1:
      case 2:
      case 3:
        doPick(peer, action.n)
        break
      case 4:
      case 5: {
        const block = [...mine.values()][action.n % Math.max(1, mine.size)]
        if (!block) break
        if (deliver(peer.id, block).pieceComplete) finishPiece(block.index, failHashes && action.n % 3 === 0)
        break
      }
      case 6: {
        const block = [...mine.values()][action.n % Math.max(1, mine.size)]
        if (!block) break
        p.requestFailed(peer.id, block)
        mine.delete(key(block))
        break
      }
      case 7:
        p.peerGone(peer.id)
        mine.clear()
        break
      case 8: {
        const expired = p.expireRequests(peer.id, now - action.n)
        for (const block of expired) mine.delete(key(block))
        break
      }
      case 9: {
        const block = [...mine.values()][0]
        if (block) p.requestFailed(peer.id, block)
        if (block) mine.delete(key(block))
        break
      }
      default:
        priority[action.n % pieceCount] = action.peer % 4
        p.setPiecePriority(action.n % pieceCount, action.peer % 4)
    }
    check()
  }

  // Drive to completion: everyone asks, everyone delivers, complete pieces verify.
  const reachable = (i: number) => peers.some((peer) => peer.has === 'all' || peer.has.has(i))
  for (let round = 0; round < 10_000 && !p.done; round++) {
    let picked = 0
    for (const peer of peers) picked += doPick(peer, 3)
    let delivered = 0
    for (const peer of peers) {
      for (const block of [...outstanding.get(peer.id)!.values()]) {
        delivered++
        if (deliver(peer.id, block).pieceComplete) finishPiece(block.index, false)
      }
    }
    check()
    if (picked === 0 && delivered === 0) break
  }
  return { p, pieceCount, priority, wanted: wanted(), firstPicks, verified, everPicked, reachable }
}

describe('PiecePicker properties', () => {
  it('picks only valid blocks, duplicates only in end-game, and finishes every reachable wanted piece', () => {
    fc.assert(
      fc.property(scenario, fc.boolean(), (s, failHashes) => {
        const { p, pieceCount, priority, verified, everPicked, reachable } = runScenario(s, failHashes)
        for (let i = 0; i < pieceCount; i++) {
          // Pieces skipped while in flight may still complete; nothing else is ever downloaded.
          if (priority[i]! > 0 && reachable(i)) expect(verified.has(i)).toBe(true)
          if (verified.has(i)) expect(everPicked.has(i)).toBe(true)
          expect(p.hasPiece(i)).toBe(verified.has(i))
        }
        const allReachable = priority.every((pr, i) => pr === 0 || reachable(i))
        expect(p.done).toBe(allReachable)
      }),
      { numRuns: 300 },
    )
  })

  it('without failures, every wanted block is picked exactly once outside end-game', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const everyone = { ...s, peers: [{ all: true, bits: [] }, ...s.peers] }
        const noFailures = { ...everyone, actions: s.actions.filter((a) => a.kind <= 5) }
        const { wanted, firstPicks } = runScenario(noFailures, false)
        expect([...firstPicks.keys()].sort()).toEqual([...wanted].sort())
        expect([...firstPicks.values()].every((n) => n === 1)).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  it('starts the rarest wanted piece of the highest priority the peer has', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ availability: fc.nat(6), priority: fc.integer({ min: 0, max: 3 }) }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (pieces, randomSeed) => {
          const n = pieces.length
          const p = new PiecePicker<string>({
            layout: layout(BS, n * BS),
            randomFirstPieces: 0,
            random: seeded(randomSeed),
          })
          p.setPiecePriorities(pieces.map((x) => x.priority))
          for (let round = 0; round < 6; round++) {
            p.peerHasBitfield(
              bits(
                n,
                pieces.flatMap((x, i) => (x.availability > round ? [i] : [])),
              ),
            )
          }
          const remaining = new Set(pieces.flatMap((x, i) => (x.priority > 0 ? [i] : [])))
          while (remaining.size > 0) {
            const [block] = p.pick(seed('s'), 1, 0)
            const best = [...remaining].reduce((a, b) => {
              const pa = pieces[a]!
              const pb = pieces[b]!
              return pb.priority > pa.priority ||
                (pb.priority === pa.priority && Math.min(pb.availability, 6) < Math.min(pa.availability, 6))
                ? b
                : a
            })
            expect(block).toBeDefined()
            expect(pieces[block!.index]!.priority).toBe(pieces[best]!.priority)
            expect(Math.min(pieces[block!.index]!.availability, 6)).toBe(
              Math.min(pieces[best]!.availability, 6),
            )
            p.blockReceived('s', block!)
            p.pieceVerified(block!.index)
            remaining.delete(block!.index)
          }
          expect(p.done).toBe(true)
          expect(p.pick(seed('s'), 1, 0)).toEqual([])
        },
      ),
    )
  })
})

describe('PiecePicker urgent pieces (streaming)', () => {
  it('picks the urgent pieces first, in their order, ahead of priority and rarity', () => {
    const p = picker(20)
    p.setPiecePriority(3, MAX_PRIORITY)
    p.setUrgent([12, 9, 10])
    const blocks = p.pick(seed('a'), 12, 0)
    expect([...new Set(blocks.map((block) => block.index))]).toEqual([12, 9, 10])
    // Then the rest as usual: the high-priority piece next.
    expect(p.pick(seed('a'), 1, 0)[0]!.index).toBe(3)
  })

  it('skips urgent pieces the peer lacks, that are verified or skipped, and ends with []', () => {
    const p = picker(10)
    p.pieceVerified(5)
    p.setPiecePriority(6, 0)
    p.setUrgent([5, 6, 7, 8])
    const lacking = peer(p, 'b', [8])
    expect(new Set(p.pick(lacking, 4, 0).map((block) => block.index))).toEqual(new Set([8]))
    p.setUrgent([])
    expect(p.pick(seed('a'), 4, 0).every((block) => block.index !== 6)).toBe(true)
  })

  it('asks a second peer for the next urgent piece once its blocks are slow, never sooner', () => {
    const p = new PiecePicker<string>({
      layout: layout(4 * BS, 8 * 4 * BS),
      randomFirstPieces: 0,
      urgentDuplicateMs: 1000,
      random: seeded(3),
    })
    p.setUrgent([2])
    expect(p.pick(seed('slow'), 4, 0).map(key)).toEqual(['2:0', `2:${BS}`, `2:${2 * BS}`, `2:${3 * BS}`])
    // 500 ms later another peer gets other pieces, not piece 2's blocks.
    expect(p.pick(seed('fast'), 4, 500).some((block) => block.index === 2)).toBe(false)
    // After 1 s, the fast peer is asked for piece 2 too; the first copy of a block wins.
    const duplicated = p.pick(seed('fast'), 4, 1000)
    expect(duplicated.map(key)).toEqual(['2:0', `2:${BS}`, `2:${2 * BS}`, `2:${3 * BS}`])
    const receipt = p.blockReceived('fast', { index: 2, begin: 0, length: BS })
    expect(receipt).toMatchObject({ accepted: true, cancel: ['slow'] })
  })
})

describe('PiecePicker releaseRequests', () => {
  it('takes back the requests of the pieces not kept, which are then picked again', () => {
    const p = picker(4)
    const asked = p.pick(seed('a'), 8, 0)
    const first = asked[0]!.index
    const released = p.releaseRequests('a', (index) => index === first)
    expect(released.length).toBe(4)
    expect(released.every((block) => block.index !== first)).toBe(true)
    expect(p.outstanding('a')).toBe(4)
    expect(new Set(p.pick(seed('b'), 4, 0).map(key))).toEqual(new Set(released.map(key)))
  })
})

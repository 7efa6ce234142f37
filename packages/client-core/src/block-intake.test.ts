import { createFileLayout } from '@bt/metainfo'
import { describe, expect, it } from 'vitest'
import { BlockIntake } from './block-intake.js'
import { BLOCK_SIZE } from './block-requests.js'
import { PiecePicker } from './piece-picker.js'

interface Peer {
  name: string
}

function setup() {
  // Two pieces of two blocks; the last block of piece 1 is 100 bytes.
  const layout = createFileLayout([3 * BLOCK_SIZE + 100], 2 * BLOCK_SIZE)
  const picker = new PiecePicker<Peer>({ layout, random: () => 0 })
  const intake = new BlockIntake(picker, layout)
  return { picker, intake, a: { name: 'a' }, b: { name: 'b' } }
}

const block = (length: number, fill: number) => new Uint8Array(length).fill(fill)

describe('BlockIntake', () => {
  it('assembles a piece from what was asked and names each block sender', () => {
    const { picker, intake, a, b } = setup()
    const fromA = picker.pick({ id: a, has: 'all' }, 1, 0)
    const fromB = picker.pick({ id: b, has: 'all' }, 1, 0)
    expect(fromA[0]!.index).toBe(fromB[0]!.index)
    const index = fromA[0]!.index
    expect(intake.receive(a, index, fromA[0]!.begin, block(BLOCK_SIZE, 1))).toMatchObject({
      kind: 'accepted',
      piece: undefined,
    })
    const last = intake.receive(b, index, fromB[0]!.begin, block(BLOCK_SIZE, 2))
    expect(last.kind).toBe('accepted')
    const piece = last.kind === 'accepted' ? last.piece : undefined
    expect(piece?.index).toBe(index)
    expect(piece?.senders.map((peer) => peer?.name)).toEqual(fromA[0]!.begin === 0 ? ['a', 'b'] : ['b', 'a'])
    expect(intake.piecesInFlight).toBe(0)
  })

  it('calls unasked what nobody asked this peer for, and what has the wrong length', () => {
    const { picker, intake, a, b } = setup()
    const [asked] = picker.pick({ id: a, has: 'all' }, 1, 0)
    expect(intake.receive(b, asked!.index, asked!.begin, block(asked!.length, 0)).kind).toBe('unasked')
    expect(intake.receive(a, asked!.index, asked!.begin, block(asked!.length - 1, 0)).kind).toBe('unasked')
    expect(intake.receive(a, 7, 0, block(BLOCK_SIZE, 0)).kind).toBe('unasked')
    expect(intake.receive(a, asked!.index, asked!.begin, block(asked!.length, 0)).kind).toBe('accepted')
  })

  it('takes one late answer to an expired request, then calls a repeat unasked', () => {
    const { picker, intake, a } = setup()
    const [asked] = picker.pick({ id: a, has: 'all' }, 1, 1000)
    expect(intake.expire(a, 500)).toEqual([])
    expect(intake.expire(a, 2000)).toEqual([asked])
    const { index, begin, length } = asked!
    expect(intake.receive(a, index, begin, block(length, 0)).kind).toBe('accepted')
    expect(intake.receive(a, index, begin, block(length, 0)).kind).toBe('unasked')
  })

  it('in end game, the second copy of a block is redundant and the first names who to cancel', () => {
    const { picker, intake, a, b } = setup()
    // Ask a for everything, then b duplicates what is left (end game).
    const all = picker.pick({ id: a, has: 'all' }, 10, 0)
    const duplicates = picker.pick({ id: b, has: 'all' }, 10, 0)
    expect(picker.endGame).toBe(true)
    const shared = duplicates[0]!
    const outcome = intake.receive(a, shared.index, shared.begin, block(shared.length, 3))
    expect(outcome).toMatchObject({ kind: 'accepted', cancel: [b] })
    // b's copy may still be in flight: released, so taken once without blame, and not kept.
    expect(intake.receive(b, shared.index, shared.begin, block(shared.length, 3)).kind).toBe('redundant')
    expect(all.length).toBeGreaterThan(0)
  })
})

import { describe, expect, it } from 'vitest'
import { BLOCK_SIZE } from './block-requests.js'
import { SmartBan } from './smart-ban.js'

const BLOCKS = 4
const good = new Uint8Array(BLOCKS * BLOCK_SIZE).map((_, i) => i % 251)

/** The good piece with block `block` corrupted. */
function corrupt(block: number): Uint8Array {
  const bad = good.slice()
  bad[block * BLOCK_SIZE + 7]! ^= 0xff
  return bad
}

const keys = (verdicts: { key: string }[]) => verdicts.map((verdict) => verdict.key)

describe('SmartBan', () => {
  it('convicts the sole sender of a failed piece at once', () => {
    const ban = new SmartBan<string>()
    const verdicts = ban.pieceFailed(0, ['liar', 'liar', 'liar', 'liar'], corrupt(2))
    expect(verdicts).toEqual([
      { key: 'liar', reason: 'corrupt-data', detail: expect.stringContaining('piece 0') },
    ])
  })

  it('a shared failure convicts nobody until the piece passes, then only the sender of the bad block', () => {
    const ban = new SmartBan<string>()
    expect(ban.pieceFailed(3, ['liar', 'honest', 'honest', 'honest'], corrupt(0))).toEqual([])
    const verdicts = ban.pieceVerified(3, ['honest', 'honest', 'honest', 'honest'], good)
    expect(verdicts).toEqual([
      { key: 'liar', reason: 'corrupt-data', detail: expect.stringContaining('piece 3') },
    ])
  })

  it('an honest co-sender of a liar is never banned however many pieces fail', () => {
    const ban = new SmartBan<string>({ maxSharedFailures: 3 })
    // The honest peer proves itself with one good piece of its own first.
    expect(ban.pieceVerified(99, ['honest', 'honest', 'honest', 'honest'], good)).toEqual([])
    const verdicts = []
    for (let index = 0; index < 10; index++)
      verdicts.push(...ban.pieceFailed(index, ['liar', 'honest', 'honest', 'honest'], corrupt(0)))
    expect(keys(verdicts)).toEqual(['liar'])
    expect(verdicts[0]!.reason).toBe('repeated-hash-failures')
  })

  it('bans unproven co-senders after maxSharedFailures failed pieces', () => {
    const ban = new SmartBan<string>({ maxSharedFailures: 2 })
    expect(ban.pieceFailed(0, ['a', 'b', 'b', 'b'], corrupt(1))).toEqual([])
    expect(keys(ban.pieceFailed(1, ['a', 'b', 'b', 'b'], corrupt(1))).sort()).toEqual(['a', 'b'])
  })

  it('the same piece failing again is one strike, not two', () => {
    const ban = new SmartBan<string>({ maxSharedFailures: 2 })
    expect(ban.pieceFailed(0, ['a', 'b', 'b', 'b'], corrupt(1))).toEqual([])
    expect(ban.pieceFailed(0, ['a', 'b', 'b', 'b'], corrupt(1))).toEqual([])
  })

  it('a piece that passes clears the strikes of the senders whose blocks were right', () => {
    const ban = new SmartBan<string>({ maxSharedFailures: 2 })
    expect(ban.pieceFailed(0, ['a', 'b', 'c', 'c'], corrupt(1))).toEqual([])
    // Piece 0 passes from others: b's block 1 differs, a's block 0 was right.
    expect(keys(ban.pieceVerified(0, ['d', 'd', 'd', 'd'], good))).toEqual(['b'])
    // b is guilty: nobody is charged for a piece it sent a block of.
    expect(ban.pieceFailed(1, ['a', 'c', 'b', 'e'], corrupt(3))).toEqual([])
    // a and c are proven honest now; only e is charged.
    expect(ban.pieceFailed(2, ['a', 'c', 'e', 'e'], corrupt(3))).toEqual([])
    expect(ban.pieceFailed(3, ['a', 'c', 'e', 'e'], corrupt(3))).toEqual([
      { key: 'e', reason: 'repeated-hash-failures', detail: expect.any(String) },
    ])
  })

  it('a ban for another reason clears the co-senders of that peer', () => {
    const ban = new SmartBan<string>({ maxSharedFailures: 2 })
    ban.pieceFailed(0, ['liar', 'x', 'x', 'x'], corrupt(0))
    ban.banned('liar')
    expect(ban.pieceFailed(1, ['y', 'x', 'x', 'x'], corrupt(0))).toEqual([])
  })

  it('remembers a bounded number of failed pieces', () => {
    const ban = new SmartBan<string>({ maxTrackedPieces: 1, maxSharedFailures: 100 })
    ban.pieceFailed(0, ['liar', 'honest', 'honest', 'honest'], corrupt(0))
    ban.pieceFailed(1, ['other', 'honest', 'honest', 'honest'], corrupt(0))
    // Piece 0's record was forgotten: its passing convicts nobody.
    expect(ban.pieceVerified(0, ['honest', 'honest', 'honest', 'honest'], good)).toEqual([])
    expect(keys(ban.pieceVerified(1, ['honest', 'honest', 'honest', 'honest'], good))).toEqual(['other'])
  })
})

import { describe, expect, it } from 'vitest'
import { type ChokeCandidate, chooseUnchoked } from './choker.js'

const peer = (name: string, down: number, up: number, interested = true): ChokeCandidate<string> => ({
  peer: name,
  interested,
  downloadRate: down,
  uploadRate: up,
})

describe('chooseUnchoked', () => {
  const candidates = [
    peer('a', 10, 1),
    peer('b', 30, 2),
    peer('c', 20, 30),
    peer('d', 0, 0, false),
    peer('e', 5, 5),
  ]

  it('while leeching, unchokes the interested peers that send us the most (tit-for-tat)', () => {
    const decision = chooseUnchoked(candidates, {
      slots: 2,
      seeding: false,
      optimistic: undefined,
      rotate: true,
      random: () => 0,
    })
    expect([...decision.unchoke].sort()).toEqual(['a', 'b', 'c'])
    expect(decision.optimistic).toBe('a')
  })

  it('while seeding, ranks by our upload rate to them', () => {
    const decision = chooseUnchoked(candidates, {
      slots: 2,
      seeding: true,
      optimistic: undefined,
      rotate: false,
      random: () => 0.99,
    })
    expect(decision.unchoke.has('c')).toBe(true)
    expect(decision.unchoke.has('e')).toBe(true)
    expect(decision.unchoke.has('d')).toBe(false)
  })

  it('keeps the optimistic unchoke until it rotates, and never picks an uninterested peer', () => {
    const kept = chooseUnchoked(candidates, { slots: 1, seeding: false, optimistic: 'e', rotate: false })
    expect(kept.optimistic).toBe('e')
    const rotated = chooseUnchoked([peer('x', 1, 1), peer('y', 0, 0, false)], {
      slots: 1,
      seeding: false,
      optimistic: 'y',
      rotate: false,
    })
    expect(rotated.optimistic).toBeUndefined()
    expect([...rotated.unchoke]).toEqual(['x'])
  })
})

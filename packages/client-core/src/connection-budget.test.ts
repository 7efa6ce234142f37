import { describe, expect, it } from 'vitest'
import { createConnectionBudget } from './connection-budget.js'

describe('createConnectionBudget', () => {
  it('hands out at most max slots and takes each back once', () => {
    const budget = createConnectionBudget(2)
    const a = budget.acquire()
    const b = budget.acquire()
    expect(a && b).toBeTruthy()
    expect(budget.acquire()).toBeUndefined()
    expect(budget.available).toBe(0)
    a!()
    a!()
    expect(budget.used).toBe(1)
    expect(budget.available).toBe(1)
    expect(budget.acquire()).toBeDefined()
    expect(budget.used).toBe(2)
  })

  it('a child slot takes a parent slot too, and a full parent stops the child', () => {
    const client = createConnectionBudget(3)
    const first = createConnectionBudget(2, client)
    const second = createConnectionBudget(2, client)
    const slots = [first.acquire(), first.acquire(), second.acquire()]
    expect(slots.every(Boolean)).toBe(true)
    expect(first.acquire()).toBeUndefined()
    expect(client.used).toBe(3)
    expect(second.available).toBe(0)
    expect(second.acquire()).toBeUndefined()
    expect(second.used).toBe(1)
    slots[0]!()
    expect(client.used).toBe(2)
    expect(second.available).toBe(1)
    expect(second.acquire()).toBeDefined()
    expect(client.used).toBe(3)
  })

  it('setMax: a lowered cap keeps the slots taken and hands out none until below it', () => {
    const budget = createConnectionBudget(3)
    const slots = [budget.acquire(), budget.acquire(), budget.acquire()]
    budget.setMax(1)
    expect(budget.max).toBe(1)
    expect(budget.available).toBe(0)
    expect(budget.acquire()).toBeUndefined()
    slots[0]!()
    slots[1]!()
    expect(budget.acquire()).toBeUndefined()
    slots[2]!()
    expect(budget.acquire()).toBeDefined()
    budget.setMax(4)
    expect(budget.available).toBe(3)
    expect(() => budget.setMax(-2)).toThrow(RangeError)
  })

  it('rejects a negative or fractional size', () => {
    expect(() => createConnectionBudget(-1)).toThrow(RangeError)
    expect(() => createConnectionBudget(1.5)).toThrow(RangeError)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Bitfield, BitfieldError } from './index.js'

describe('Bitfield', () => {
  it('uses BEP 3 bit order: piece 0 is the high bit of byte 0', () => {
    const field = new Bitfield(10)
    field.set(0)
    field.set(9)
    expect([...field.bytes]).toEqual([0x80, 0x40])
    expect([...field.indices()]).toEqual([0, 9])
    expect(field.count).toBe(2)
  })

  it('full() leaves spare bits clear', () => {
    const field = Bitfield.full(10)
    expect([...field.bytes]).toEqual([0xff, 0xc0])
    expect(field.complete).toBe(true)
  })

  it('rejects wire bitfields of the wrong size or with spare bits set', () => {
    expect(() => Bitfield.fromBytes(new Uint8Array(3), 10)).toThrow(BitfieldError)
    expect(() => Bitfield.fromBytes(Uint8Array.from([0, 0x20]), 10)).toThrow(BitfieldError)
    expect(Bitfield.fromBytes(Uint8Array.from([0x01, 0xc0]), 10).count).toBe(3)
  })

  it('set/clear report changes and keep the count', () => {
    const field = new Bitfield(3)
    expect(field.set(1)).toBe(true)
    expect(field.set(1)).toBe(false)
    expect(field.clear(1)).toBe(true)
    expect(field.clear(1)).toBe(false)
    expect(field.count).toBe(0)
    expect(() => field.set(3)).toThrow(RangeError)
    expect(field.has(3)).toBe(false)
  })

  it('agrees with a set of indices', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.array(fc.nat(199)), (length, picks) => {
        const field = new Bitfield(length)
        const model = new Set<number>()
        for (const pick of picks.filter((p) => p < length)) {
          field.set(pick)
          model.add(pick)
        }
        expect([...field.indices()]).toEqual([...model].sort((a, b) => a - b))
        expect(field.count).toBe(model.size)
        expect([...field.missing()].length).toBe(length - model.size)
        expect(Bitfield.fromBytes(field.bytes, length).count).toBe(model.size)
      }),
    )
  })
})

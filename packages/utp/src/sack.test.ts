import { describe, expect, it } from 'vitest'
import { sackBit, sackedSeqs, writeSack } from './sack.js'

describe('selective ack bitmask', () => {
  it('puts ack_nr + 2 in bit 0 of byte 0, least significant bit first, in whole 32-bit words', () => {
    const out = Buffer.alloc(8)
    const received = new Set([12, 14, 19, 20])
    const length = writeSack(out, 0, 10, 11, (seq) => received.has(seq))
    expect(length).toBe(4)
    // 12 → bit 0, 14 → bit 2, 19 → bit 7, 20 → bit 8 (byte 1, bit 0)
    expect([...out.subarray(0, 4)]).toEqual([0b10000101, 0b00000001, 0, 0])
    expect(sackedSeqs(10, out, 0, 4)).toEqual([12, 14, 19, 20])
  })

  it('wraps around 65535', () => {
    const out = Buffer.alloc(4)
    const length = writeSack(out, 0, 65534, 4, (seq) => seq === 0 || seq === 1)
    expect(length).toBe(4)
    expect(sackedSeqs(65534, out, 0, length)).toEqual([0, 1])
  })

  it('caps the mask at 32 bytes and reads bits outside it as unset', () => {
    const out = Buffer.alloc(64)
    expect(writeSack(out, 0, 0, 1000, () => true)).toBe(32)
    expect(sackBit(out, 0, 32, 255)).toBe(true)
    expect(sackBit(out, 0, 32, 256)).toBe(false)
    expect(writeSack(out, 0, 0, 0, () => true)).toBe(0)
  })
})

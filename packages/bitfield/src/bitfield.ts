// Which pieces a peer (or we) have, stored exactly as the BEP 3 `bitfield` message carries it: piece 0 is
// the high bit of byte 0, spare bits at the end are zero.
import { BitfieldError } from './errors.js'

export class Bitfield {
  /** Number of bits (pieces). */
  readonly length: number
  /** The wire form; shared, not copied: mutate only through the methods. */
  readonly bytes: Uint8Array
  private setCount = 0

  constructor(length: number) {
    if (!Number.isSafeInteger(length) || length < 0)
      throw new BitfieldError(`invalid bitfield length ${length}`)
    this.length = length
    this.bytes = new Uint8Array(Math.ceil(length / 8))
  }

  /**
   * Reads a wire bitfield for `length` pieces. Throws `BitfieldError` when the byte count is wrong or a
   * spare bit is set (BEP 3: peers sending either should be dropped).
   */
  static fromBytes(bytes: Uint8Array, length: number): Bitfield {
    const field = new Bitfield(length)
    if (bytes.length !== field.bytes.length) {
      throw new BitfieldError(
        `bitfield has ${bytes.length} bytes, expected ${field.bytes.length} for ${length} pieces`,
      )
    }
    const spare = field.bytes.length * 8 - length
    if (spare > 0 && (bytes[bytes.length - 1]! & ((1 << spare) - 1)) !== 0) {
      throw new BitfieldError('bitfield has spare bits set')
    }
    field.bytes.set(bytes)
    for (const byte of bytes) field.setCount += popcount(byte)
    return field
  }

  /** A bitfield with every piece set (a seed, or BEP 6 `have all`). */
  static full(length: number): Bitfield {
    const field = new Bitfield(length)
    field.setAll()
    return field
  }

  get count(): number {
    return this.setCount
  }

  get complete(): boolean {
    return this.setCount === this.length
  }

  get empty(): boolean {
    return this.setCount === 0
  }

  has(index: number): boolean {
    if (index < 0 || index >= this.length) return false
    return (this.bytes[index >> 3]! & (0x80 >> (index & 7))) !== 0
  }

  /** Sets bit `index`; returns `true` if it was not set before. */
  set(index: number): boolean {
    this.check(index)
    const mask = 0x80 >> (index & 7)
    const byte = this.bytes[index >> 3]!
    if (byte & mask) return false
    this.bytes[index >> 3] = byte | mask
    this.setCount++
    return true
  }

  /** Clears bit `index`; returns `true` if it was set before. */
  clear(index: number): boolean {
    this.check(index)
    const mask = 0x80 >> (index & 7)
    const byte = this.bytes[index >> 3]!
    if (!(byte & mask)) return false
    this.bytes[index >> 3] = byte & ~mask
    this.setCount--
    return true
  }

  setAll(): void {
    this.bytes.fill(0xff)
    const spare = this.bytes.length * 8 - this.length
    if (spare > 0) this.bytes[this.bytes.length - 1] = (0xff << spare) & 0xff
    this.setCount = this.length
  }

  /** Indices of set bits, ascending. */
  *indices(): IterableIterator<number> {
    for (let byteIndex = 0; byteIndex < this.bytes.length; byteIndex++) {
      const byte = this.bytes[byteIndex]!
      if (byte === 0) continue
      for (let bit = 0; bit < 8; bit++) if (byte & (0x80 >> bit)) yield byteIndex * 8 + bit
    }
  }

  /** Indices of unset bits, ascending. */
  *missing(): IterableIterator<number> {
    for (let index = 0; index < this.length; index++) if (!this.has(index)) yield index
  }

  clone(): Bitfield {
    return Bitfield.fromBytes(this.bytes.slice(), this.length)
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`bitfield: index ${index} out of range 0..${this.length - 1}`)
    }
  }
}

function popcount(byte: number): number {
  let count = 0
  for (let value = byte; value !== 0; value &= value - 1) count++
  return count
}

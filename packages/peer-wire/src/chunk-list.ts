// Received socket chunks, read front to back without joining them: appending never copies, and taking n
// bytes returns a view when they sit in one chunk or exactly one copy when they span several.

export class ChunkList {
  private chunks: Uint8Array[] = []
  /** Index of the first chunk still in use; consumed chunks before it are dropped in batches. */
  private head = 0
  /** Read position inside `chunks[head]`. */
  private offset = 0
  /** Unread bytes over all chunks. */
  length = 0

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.length += chunk.length
  }

  /** The byte `at` positions past the read position (which must be buffered). */
  peekByte(at: number): number {
    let index = this.head
    let position = this.offset + at
    let chunk = this.chunks[index]!
    while (position >= chunk.length) {
      position -= chunk.length
      chunk = this.chunks[++index]!
    }
    return chunk[position]!
  }

  /** The big-endian uint32 at the read position (4 bytes must be buffered). */
  peekUint32(): number {
    const chunk = this.chunks[this.head]!
    const o = this.offset
    if (chunk.length - o >= 4) {
      return ((chunk[o]! << 24) | (chunk[o + 1]! << 16) | (chunk[o + 2]! << 8) | chunk[o + 3]!) >>> 0
    }
    return (
      ((this.peekByte(0) << 24) | (this.peekByte(1) << 16) | (this.peekByte(2) << 8) | this.peekByte(3)) >>> 0
    )
  }

  readUint32(): number {
    const chunk = this.chunks[this.head]!
    const o = this.offset
    if (chunk.length - o > 4) {
      this.offset = o + 4
      this.length -= 4
      return ((chunk[o]! << 24) | (chunk[o + 1]! << 16) | (chunk[o + 2]! << 8) | chunk[o + 3]!) >>> 0
    }
    const value = this.peekUint32()
    this.skip(4)
    return value
  }

  readUint16(): number {
    const value = (this.peekByte(0) << 8) | this.peekByte(1)
    this.skip(2)
    return value
  }

  skip(count: number): void {
    this.length -= count
    let remaining = count
    while (remaining > 0) {
      const chunk = this.chunks[this.head]!
      const available = chunk.length - this.offset
      if (remaining < available) {
        this.offset += remaining
        return
      }
      remaining -= available
      this.dropHead()
    }
  }

  /** Consumes `count` buffered bytes: a view of the chunk that holds them all, else one copy. */
  take(count: number): Uint8Array {
    if (count === 0) return new Uint8Array(0)
    const chunk = this.chunks[this.head]!
    const start = this.offset
    if (chunk.length - start >= count) {
      // A plain Uint8Array view: Buffer#subarray goes through a JS constructor and is several times slower.
      const view = new Uint8Array(chunk.buffer, chunk.byteOffset + start, count)
      this.skip(count)
      return view
    }
    const copy = this.copy(count)
    this.skip(count)
    return copy
  }

  /** The next `count` buffered bytes without consuming them (a copy when they span chunks). */
  peek(count: number): Uint8Array {
    const chunk = this.chunks[this.head]!
    if (chunk.length - this.offset >= count) {
      return new Uint8Array(chunk.buffer, chunk.byteOffset + this.offset, count)
    }
    return this.copy(count)
  }

  private copy(count: number): Uint8Array {
    // allocUnsafe skips zero-filling memory that is overwritten at once.
    const target = Buffer.allocUnsafe(count)
    let written = 0
    let index = this.head
    let start = this.offset
    while (written < count) {
      const chunk = this.chunks[index++]!
      const part = Math.min(chunk.length - start, count - written)
      target.set(part === chunk.length ? chunk : chunk.subarray(start, start + part), written)
      written += part
      start = 0
    }
    return new Uint8Array(target.buffer, target.byteOffset, count)
  }

  private dropHead(): void {
    this.chunks[this.head] = EMPTY
    this.head++
    this.offset = 0
    if (this.head === this.chunks.length) {
      this.chunks.length = 0
      this.head = 0
    } else if (this.head >= 64) {
      this.chunks.splice(0, this.head)
      this.head = 0
    }
  }
}

const EMPTY = new Uint8Array(0)

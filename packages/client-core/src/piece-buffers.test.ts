import { describe, expect, it } from 'vitest'
import { PieceBuffers } from './piece-buffers.js'

describe('PieceBuffers', () => {
  it('hands a given-back buffer of the same length out again, and keeps at most its byte cap free', () => {
    const buffers = new PieceBuffers(3 * 1024)
    const first = buffers.take(1024)
    const other = buffers.take(512)
    expect(first.length).toBe(1024)
    // Each owns its whole ArrayBuffer (never a slice of Buffer's shared pool).
    expect(first.byteLength).toBe(first.buffer.byteLength)
    buffers.give(first)
    buffers.give(other)
    expect(buffers.take(1024)).toBe(first)
    expect(buffers.take(512)).toBe(other)
    expect(buffers.take(1024)).not.toBe(first)
    const many = [buffers.take(1024), buffers.take(1024), buffers.take(1024), buffers.take(1024)]
    for (const buffer of many) buffers.give(buffer)
    // Three fit under the cap; the fourth was let go.
    const back = [buffers.take(1024), buffers.take(1024), buffers.take(1024), buffers.take(1024)]
    expect(back.filter((buffer) => many.includes(buffer))).toHaveLength(3)
    buffers.clear()
    expect(many).not.toContain(buffers.take(1024))
  })
})

import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HandlePool } from './handle-pool.js'

describe('HandlePool', () => {
  let dir: string
  let opened: { fileIndex: number; writable: boolean }[]
  const openFile = async (fileIndex: number, writable: boolean) => {
    opened.push({ fileIndex, writable })
    return open(join(dir, `f${fileIndex}`), writable ? 'r+' : 'r')
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-handle-pool-'))
    opened = []
    for (let index = 0; index < 6; index++) await writeFile(join(dir, `f${index}`), `file ${index}`)
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps at most maxOpen idle handles, closing the least recently used', async () => {
    const pool = new HandlePool(2, openFile, () => undefined)
    const handles = []
    for (const fileIndex of [0, 1, 0, 2]) {
      const pooled = await pool.acquire(fileIndex, false)
      handles.push(pooled.handle)
      pool.release(pooled)
    }
    expect(pool.size).toBe(2)
    expect(opened.map((entry) => entry.fileIndex)).toEqual([0, 1, 2])
    await new Promise((resolve) => setImmediate(resolve))
    expect(handles[1]!.fd).toBe(-1)
    expect(handles[0]!.fd).toBeGreaterThan(0)
    await pool.closeAll()
    expect(handles[0]!.fd).toBe(-1)
  })

  it('never closes a handle that is in use, and shares one open between concurrent users', async () => {
    const pool = new HandlePool(1, openFile, () => undefined)
    const [held, again] = await Promise.all([pool.acquire(0, false), pool.acquire(0, false)])
    expect(held).toBe(again)
    expect(opened).toHaveLength(1)
    for (const fileIndex of [1, 2, 3]) pool.release(await pool.acquire(fileIndex, false))
    await new Promise((resolve) => setImmediate(resolve))
    const buffer = Buffer.alloc(6)
    await held.handle.read(buffer, 0, 6, 0)
    expect(buffer.toString()).toBe('file 0')
    pool.release(held)
    pool.release(again)
    await pool.closeAll()
  })

  it('replaces a read-only handle by a writable one, closing the old one once released', async () => {
    const pool = new HandlePool(4, openFile, () => undefined)
    const reader = await pool.acquire(0, false)
    const writer = await pool.acquire(0, true)
    expect(writer.writable).toBe(true)
    expect(reader.handle.fd).toBeGreaterThan(0)
    pool.release(reader)
    await new Promise((resolve) => setImmediate(resolve))
    expect(reader.handle.fd).toBe(-1)
    pool.release(writer)
    // A writable handle serves reads too.
    const read = await pool.acquire(0, false)
    expect(read).toBe(writer)
    pool.release(read)
    await pool.closeAll()
  })

  it('forgets a failed open so the next acquire tries again', async () => {
    const pool = new HandlePool(4, openFile, () => undefined)
    await expect(pool.acquire(9, false)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(pool.size).toBe(0)
    await writeFile(join(dir, 'f9'), 'late')
    pool.release(await pool.acquire(9, false))
    await pool.closeAll()
  })

  it('closes idle handles on request, so files are reopened by path', async () => {
    const pool = new HandlePool(4, openFile, () => undefined)
    pool.release(await pool.acquire(0, false))
    const busy = await pool.acquire(1, false)
    pool.closeIdle()
    expect(pool.size).toBe(1)
    pool.release(await pool.acquire(0, false))
    expect(opened.map((entry) => entry.fileIndex)).toEqual([0, 1, 0])
    pool.release(busy)
    await pool.closeAll()
  })
})

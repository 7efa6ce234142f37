import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/index.js'
import { describePieceStoreContract, singleFileTorrent } from './compliance.js'

describePieceStoreContract('memory store', async (meta) => createMemoryStore(meta))

describe('memory store', () => {
  it('signals backpressure at its high-water mark and drains', async () => {
    const torrent = singleFileTorrent()
    const store = createMemoryStore(torrent.meta, { highWaterMark: 40000 })
    const first = store.writePiece(0, torrent.piece(0))
    const second = store.writePiece(1, torrent.piece(1))
    expect(store.pendingBytes).toBeGreaterThanOrEqual(store.highWaterMark)
    let drained = false
    const waiting = store.drained().then(() => {
      drained = true
    })
    expect(drained).toBe(false)
    await Promise.all([first, second, waiting])
    expect(drained).toBe(true)
    expect(store.pendingBytes).toBe(0)
    await store.close()
  })

  it('rechecks on worker threads too', async () => {
    const torrent = singleFileTorrent()
    const store = createMemoryStore(torrent.meta)
    await store.writePiece(1, torrent.piece(1))
    expect([...(await store.recheck({ workers: 2 })).indices()]).toEqual([1])
    await store.close()
  })
})

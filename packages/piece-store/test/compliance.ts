// The PieceStore contract, run against every implementation (memory and file stores): what a client may
// rely on whichever store it is given.
import type { Metainfo } from '@bt/metainfo'
import { afterEach, describe, expect, it } from 'vitest'
import type { PieceStore } from '../src/index.js'
import { buildTorrent, sameBytes, type TestTorrent } from './helpers/torrent.js'

export type StoreFactory = (meta: Metainfo) => Promise<PieceStore>

/** Three pieces over four files (one empty), the last piece shorter. */
export const multiFileTorrent = (): TestTorrent =>
  buildTorrent({
    name: 'multi',
    pieceLength: 16384,
    files: [
      { path: ['a.bin'], length: 10000 },
      { path: ['empty.txt'], length: 0 },
      { path: ['dir', 'c.bin'], length: 30000 },
      { path: ['d.bin'], length: 5000 },
    ],
  })

/** BEP 47: files aligned to pieces by padding files, which are never stored and read as zeros. */
export const paddedTorrent = (): TestTorrent =>
  buildTorrent({
    name: 'padded',
    pieceLength: 16384,
    files: [
      { path: ['a.bin'], length: 10000 },
      { path: ['.pad', '6384'], length: 6384, padding: true },
      { path: ['b.bin'], length: 20000 },
      { path: ['.pad', '12768'], length: 12768, padding: true },
      { path: ['c.bin'], length: 100 },
    ],
  })

export const singleFileTorrent = (): TestTorrent =>
  buildTorrent({ name: 'single.bin', pieceLength: 32768, files: 70000 })

function* indices(count: number): Generator<number> {
  for (let index = 0; index < count; index++) yield index
}

async function writeAll(store: PieceStore, torrent: TestTorrent): Promise<void> {
  const order = [...indices(torrent.meta.pieceCount)].reverse()
  await Promise.all(order.map((index) => store.writePiece(index, torrent.piece(index))))
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  if (!(error instanceof Error)) throw new Error(`expected a rejection with an Error, got ${String(error)}`)
  return error
}

export function describePieceStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name}: PieceStore contract`, () => {
    const opened: PieceStore[] = []
    const open = async (torrent: TestTorrent): Promise<PieceStore> => {
      const store = await factory(torrent.meta)
      opened.push(store)
      return store
    }
    afterEach(async () => {
      await Promise.allSettled(opened.splice(0).map((store) => store.close()))
    })

    it('leaves a piece that covers a skipped file incomplete until the file is wanted again', async () => {
      // multi: piece 0 holds a.bin (10000 bytes), empty.txt and the start of dir/c.bin.
      const torrent = multiFileTorrent()
      const store = await open(torrent)
      store.setFileWanted(2, false)
      expect(store.isFileWanted(2)).toBe(false)
      expect(await store.writePiece(0, torrent.piece(0))).toBe(false)
      expect(store.have.has(0)).toBe(false)
      // Piece 2 lies in d.bin and the end of c.bin: also partial; piece 1 lies in c.bin alone.
      expect(await store.writePiece(1, torrent.piece(1))).toBe(false)
      store.setFileWanted(2, true)
      expect(await store.writePiece(0, torrent.piece(0))).toBe(true)
      expect(store.have.has(0)).toBe(true)
      expect(sameBytes(await store.readPiece(0), torrent.piece(0))).toBe(true)
      expect(() => store.setFileWanted(4, false)).toThrow(RangeError)
    })

    it('starts with no piece complete', async () => {
      const torrent = multiFileTorrent()
      const store = await open(torrent)
      expect(store.have.length).toBe(torrent.meta.pieceCount)
      expect(store.have.count).toBe(0)
      expect(store.pendingBytes).toBe(0)
      await expect(store.readBlock(0, 0, 16)).rejects.toMatchObject({
        name: 'PieceMissingError',
        pieceIndex: 0,
      })
    })

    it('stores pieces across file boundaries and reads back pieces and blocks', async () => {
      const torrent = multiFileTorrent()
      const store = await open(torrent)
      await writeAll(store, torrent)
      expect(store.have.complete).toBe(true)
      for (const index of indices(torrent.meta.pieceCount)) {
        expect(sameBytes(await store.readPiece(index), torrent.piece(index))).toBe(true)
      }
      // Piece 0 holds all of a.bin and the start of dir/c.bin; piece 2 is the short last piece.
      expect(sameBytes(await store.readBlock(0, 9990, 20), torrent.piece(0).subarray(9990, 10010))).toBe(true)
      expect(sameBytes(await store.readBlock(2, 12000, 232), torrent.piece(2).subarray(12000))).toBe(true)
      expect(torrent.meta.layout.pieceLengthAt(2)).toBe(12232)
      // A small block owns its memory: nothing else can be reached through `block.buffer`.
      const block = await store.readBlock(1, 100, 50)
      expect(block.buffer.byteLength).toBe(50)
    })

    it('reads blocks into a caller buffer, with the checks of readBlock', async () => {
      const torrent = multiFileTorrent()
      const store = await open(torrent)
      const target = new Uint8Array(30).fill(0xaa)
      await expect(store.readBlockInto(0, 9990, target)).rejects.toMatchObject({ name: 'PieceMissingError' })
      await writeAll(store, torrent)
      // Across the a.bin / dir/c.bin boundary, into the middle of a larger buffer left untouched around it.
      await store.readBlockInto(0, 9990, target.subarray(5, 25))
      expect(sameBytes(target.subarray(5, 25), torrent.piece(0).subarray(9990, 10010))).toBe(true)
      expect([...target.subarray(0, 5), ...target.subarray(25)]).toEqual(new Array(10).fill(0xaa))
      const last = new Uint8Array(torrent.meta.layout.pieceLengthAt(2))
      await store.readBlockInto(2, 0, last)
      expect(sameBytes(last, torrent.piece(2))).toBe(true)
      await expect(store.readBlockInto(2, 1, last)).rejects.toThrow(RangeError)
      await expect(store.readBlockInto(2, 0, new Uint8Array(0))).rejects.toThrow(RangeError)
      await expect(store.readBlockInto(3, 0, target)).rejects.toThrow(RangeError)
    })

    it('rejects data that does not hash right and writes nothing', async () => {
      const torrent = multiFileTorrent()
      const store = await open(torrent)
      const data = torrent.piece(1)
      data[100] = (data[100]! + 1) & 0xff
      const error = await rejection(store.writePiece(1, data))
      expect(error).toMatchObject({ name: 'PieceHashMismatchError', pieceIndex: 1 })
      expect(error).toHaveProperty('expected', Buffer.from(torrent.meta.pieceHash(1)).toString('hex'))
      expect(store.have.has(1)).toBe(false)
      expect(store.pendingBytes).toBe(0)
      expect(await store.verifyPiece(1)).toBe(false)
      await expect(store.readPiece(1)).rejects.toMatchObject({ name: 'PieceMissingError' })
    })

    it('leaves a complete piece alone when it is written again', async () => {
      const torrent = singleFileTorrent()
      const store = await open(torrent)
      await store.writePiece(0, torrent.piece(0))
      await store.writePiece(0, new Uint8Array(torrent.piece(0).length))
      expect(sameBytes(await store.readPiece(0), torrent.piece(0))).toBe(true)
    })

    it('serialises concurrent writes of one piece', async () => {
      const torrent = singleFileTorrent()
      const store = await open(torrent)
      await Promise.all([store.writePiece(1, torrent.piece(1)), store.writePiece(1, torrent.piece(1))])
      expect(store.have.count).toBe(1)
      expect(sameBytes(await store.readPiece(1), torrent.piece(1))).toBe(true)
    })

    it('hashes every piece it is given: no option vouches for the data', async () => {
      const torrent = singleFileTorrent()
      const store = await open(torrent)
      const garbage = new Uint8Array(torrent.piece(0).length).fill(7)
      // What a caller of the removed `verified: true` would still pass.
      const staleOptions = { verified: true, signal: undefined }
      await expect(store.writePiece(0, garbage, staleOptions)).rejects.toMatchObject({
        name: 'PieceHashMismatchError',
        pieceIndex: 0,
      })
      expect(store.have.has(0)).toBe(false)
    })

    it('checks indices, piece sizes and block ranges', async () => {
      const torrent = singleFileTorrent()
      const store = await open(torrent)
      await expect(store.writePiece(3, new Uint8Array(1))).rejects.toThrow(RangeError)
      await expect(store.writePiece(-1, new Uint8Array(1))).rejects.toThrow(RangeError)
      await expect(store.writePiece(2, torrent.piece(0))).rejects.toThrow(RangeError)
      await expect(store.writePiece(0, torrent.piece(0).subarray(1))).rejects.toThrow(RangeError)
      await store.writePiece(2, torrent.piece(2))
      expect(torrent.piece(2).length).toBe(70000 - 65536)
      await expect(store.readBlock(2, 0, 0)).rejects.toThrow(RangeError)
      await expect(store.readBlock(2, 4000, 465)).rejects.toThrow(RangeError)
      await expect(store.readBlock(2, -1, 10)).rejects.toThrow(RangeError)
      await expect(store.readBlock(2, 0.5, 10)).rejects.toThrow(RangeError)
      expect(sameBytes(await store.readBlock(2, 4000, 464), torrent.piece(2).subarray(4000))).toBe(true)
      await expect(store.verifyPiece(3)).rejects.toThrow(RangeError)
    })

    it('reads padding files as zeros', async () => {
      const torrent = paddedTorrent()
      const store = await open(torrent)
      await writeAll(store, torrent)
      expect(await store.readBlock(0, 9999, 16384 - 9999)).toEqual(
        Uint8Array.from([torrent.file(0)[9999]!, ...new Uint8Array(6384)]),
      )
      for (const index of indices(torrent.meta.pieceCount)) {
        expect(sameBytes(await store.readPiece(index), torrent.piece(index))).toBe(true)
      }
    })

    it('verifies single pieces against what it holds', async () => {
      const torrent = multiFileTorrent()
      const store = await open(torrent)
      await store.writePiece(1, torrent.piece(1))
      expect(await store.verifyPiece(1)).toBe(true)
      expect(await store.verifyPiece(0)).toBe(false)
      expect([...store.have.indices()]).toEqual([1])
    })

    it('rechecks every piece with progress, and leaves `have` alone when aborted', async () => {
      const torrent = paddedTorrent()
      const store = await open(torrent)
      await store.writePiece(0, torrent.piece(0))
      await store.writePiece(2, torrent.piece(2))
      const progress: number[] = []
      const result = await store.recheck({ onProgress: (update) => progress.push(update.checkedPieces) })
      expect([...result.indices()]).toEqual([0, 2])
      expect(result).not.toBe(store.have)
      expect([...store.have.indices()]).toEqual([0, 2])
      expect(progress.sort()).toEqual([...indices(torrent.meta.pieceCount)].map((index) => index + 1))
      const controller = new AbortController()
      controller.abort()
      await expect(store.recheck({ signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
      expect([...store.have.indices()]).toEqual([0, 2])
    })

    it('honours an aborted signal before doing anything', async () => {
      const torrent = singleFileTorrent()
      const store = await open(torrent)
      const signal = AbortSignal.abort()
      await expect(store.writePiece(0, torrent.piece(0), { signal })).rejects.toMatchObject({
        name: 'AbortError',
      })
      expect(store.have.has(0)).toBe(false)
      await expect(store.verifyPiece(0, { signal })).rejects.toMatchObject({ name: 'AbortError' })
      await expect(store.flush({ signal })).rejects.toMatchObject({ name: 'AbortError' })
      await expect(store.drained({ signal })).rejects.toMatchObject({ name: 'AbortError' })
      await expect(store.destroy({ signal })).rejects.toMatchObject({ name: 'AbortError' })
      await store.writePiece(0, torrent.piece(0))
      expect(store.have.has(0)).toBe(true)
    })

    it('counts pending bytes until each write settles', async () => {
      const torrent = singleFileTorrent()
      const store = await open(torrent)
      expect(store.highWaterMark).toBeGreaterThan(0)
      const writes = [0, 1, 2].map((index) => store.writePiece(index, torrent.piece(index)))
      expect(store.pendingBytes).toBe(torrent.meta.length)
      await Promise.all(writes)
      expect(store.pendingBytes).toBe(0)
      await store.drained()
    })

    it('finishes accepted writes on close and refuses work afterwards', async () => {
      const torrent = multiFileTorrent()
      const store = await open(torrent)
      const write = store.writePiece(0, torrent.piece(0))
      await store.close()
      await write
      await store.close()
      for (const call of [
        store.writePiece(1, torrent.piece(1)),
        store.readBlock(0, 0, 1),
        store.verifyPiece(0),
        store.recheck(),
        store.flush(),
      ]) {
        await expect(call).rejects.toMatchObject({ name: 'StoreClosedError' })
      }
    })

    it('destroys: finishes accepted writes, closes, and forgets every piece', async () => {
      const torrent = multiFileTorrent()
      const store = await open(torrent)
      await store.writePiece(1, torrent.piece(1))
      const write = store.writePiece(0, torrent.piece(0))
      await store.destroy()
      await write
      expect(store.have.count).toBe(0)
      for (const call of [store.readBlock(0, 0, 1), store.verifyPiece(1), store.flush()]) {
        await expect(call).rejects.toMatchObject({ name: 'StoreClosedError' })
      }
      await store.close()
    })

    it('destroys after close, and again', async () => {
      const torrent = singleFileTorrent()
      const store = await open(torrent)
      await writeAll(store, torrent)
      await store.close()
      expect(store.have.complete).toBe(true)
      await store.destroy()
      expect(store.have.count).toBe(0)
      await store.destroy()
      expect(store.have.count).toBe(0)
    })
  })
}

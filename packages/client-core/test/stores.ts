// A memory store holding a torrent's whole content: what the seeders of these tests serve from.
import type { Metainfo } from '@bt/metainfo'
import { createMemoryStore, type PieceStore } from '@bt/piece-store'

export async function filledMemoryStore(meta: Metainfo, content: Uint8Array): Promise<PieceStore> {
  const store = createMemoryStore(meta)
  for (let index = 0; index < meta.pieceCount; index++) {
    const start = index * meta.pieceLength
    await store.writePiece(index, content.subarray(start, start + meta.layout.pieceLengthAt(index)))
  }
  return store
}

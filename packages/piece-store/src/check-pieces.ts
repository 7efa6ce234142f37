// Verifies a set of pieces from storage: a few lanes each read one piece at a time into their own
// buffer and hand it to the hasher, so reading and hashing overlap and memory stays at lanes × piece.
import { Bitfield } from '@bt/bitfield'
import type { Metainfo } from '@bt/metainfo'
import { createHasher } from './hash-pool.js'
import { equalBytes } from './piece-hash.js'
import type { RecheckProgress } from './types.js'

export interface CheckPiecesInit {
  meta: Metainfo
  /** Pieces to check. */
  pieces: readonly number[]
  /** Fills `target` with piece `index` from storage; `false` when the data is not there (missing file…). */
  read(index: number, target: Uint8Array): Promise<boolean>
  /** Hashing threads; 0 hashes on the calling thread. */
  workers: number
  signal?: AbortSignal | undefined
  onProgress?: ((progress: RecheckProgress) => void) | undefined
}

/** Which of `pieces` hash right, as a bitfield over the whole torrent. Rejects on abort or read errors. */
export async function checkPieces(init: CheckPiecesInit): Promise<Bitfield> {
  const { meta, pieces, signal } = init
  signal?.throwIfAborted()
  const valid = new Bitfield(meta.pieceCount)
  const workers = Math.min(init.workers, pieces.length)
  const hasher = createHasher(workers)
  const progress: RecheckProgress = {
    checkedPieces: 0,
    totalPieces: pieces.length,
    checkedBytes: 0,
    totalBytes: pieces.reduce((sum, index) => sum + meta.layout.pieceLengthAt(index), 0),
    validPieces: 0,
  }
  let next = 0
  let stopped = false

  const lane = async (): Promise<void> => {
    let buffer: ArrayBuffer | undefined
    while (!stopped && next < pieces.length) {
      signal?.throwIfAborted()
      const index = pieces[next++]!
      const length = meta.layout.pieceLengthAt(index)
      buffer ??= new ArrayBuffer(meta.pieceLength)
      if (await init.read(index, new Uint8Array(buffer, 0, length))) {
        const result = await hasher.hash(buffer, length)
        buffer = result.buffer
        if (equalBytes(result.digest, meta.pieceHash(index))) {
          valid.set(index)
          progress.validPieces++
        }
      }
      progress.checkedPieces++
      progress.checkedBytes += length
      init.onProgress?.({ ...progress })
    }
  }

  const lanes = Math.max(2, workers * 2)
  const results = await Promise.allSettled(
    Array.from({ length: lanes }, () =>
      lane().catch((error: unknown) => {
        stopped = true
        throw error
      }),
    ),
  )
  await hasher.close()
  for (const result of results) if (result.status === 'rejected') throw result.reason
  return valid
}

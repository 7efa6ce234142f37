// Which files of a torrent are wanted, and how much: per-file priorities (skip, low, normal, high) turned
// into what the picker and the progress need — each piece's priority (the highest of the files it
// overlaps, so a wanted file's edge pieces are fetched) and each piece's wanted length (the bytes of it
// that lie in wanted files; padding never counts). Pure: the torrent recomputes them when a priority
// changes.
import type { Metainfo } from '@bt/metainfo'
import { filePiecePriorities } from './piece-picker.js'

export type FilePriority = 'skip' | 'low' | 'normal' | 'high'

/** The picker's levels (0..7) for each file priority. */
export const PRIORITY_LEVEL: Readonly<Record<FilePriority, number>> = { skip: 0, low: 1, normal: 4, high: 7 }

export interface WantedPieces {
  /** Picker priority of each piece. */
  priorities: Uint8Array
  /** Bytes of each piece that lie in wanted files (padding excluded). */
  wantedLength: Float64Array
}

/** Every file `normal`, padding files `skip`: the default. */
export function defaultFilePriorities(meta: Metainfo): FilePriority[] {
  return meta.files.map((file) => (file.padding ? 'skip' : 'normal'))
}

export function wantedPieces(meta: Metainfo, files: readonly FilePriority[]): WantedPieces {
  if (files.length !== meta.files.length) {
    throw new RangeError(`client-core: ${files.length} file priorities for ${meta.files.length} files`)
  }
  const levels = meta.files.map((file, index) => (file.padding ? 0 : PRIORITY_LEVEL[files[index]!]))
  const priorities = filePiecePriorities(meta.layout, levels)
  const wantedLength = new Float64Array(meta.pieceCount)
  for (let index = 0; index < meta.pieceCount; index++) {
    if (priorities[index] === 0) continue
    for (const span of meta.layout.spansForPiece(index)) {
      if (levels[span.fileIndex]! > 0) wantedLength[index]! += span.length
    }
  }
  return { priorities, wantedLength }
}

// The files of a torrent as people number them (0-based, torrent order, padding files left out: `bt
// info` shows these numbers) and `--select` / `--exclude` lists (`0,2-3`) turned into file priorities.
import type { FilePriority, Torrent } from '@bt/client-core'
import type { Metainfo, TorrentFile } from '@bt/metainfo'
import { InvalidArgumentError } from 'commander'
import { UsageError } from './errors.js'

export interface NumberedFile {
  /** The number people use (`bt info`, `--select`). */
  number: number
  /** The file's index in `meta.files` (padding files counted). */
  index: number
  file: TorrentFile
}

export function numberedFiles(meta: Metainfo): NumberedFile[] {
  const numbered: NumberedFile[] = []
  for (const [index, file] of meta.files.entries()) {
    if (!file.padding) numbered.push({ number: numbered.length, index, file })
  }
  return numbered
}

/** A file list as `--select` takes it: numbers and inclusive ranges, comma-separated (`0,2-3`). */
export function parseFileList(text: string): number[] {
  const numbers = new Set<number>()
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part)
    const first = Number(match?.[1])
    const last = match?.[2] === undefined ? first : Number(match[2])
    if (!match || !Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) {
      throw new InvalidArgumentError(
        `'${text}' is not a file list (e.g. 0,2-3; see bt info for the numbers).`,
      )
    }
    if (last - first > 1_000_000) throw new InvalidArgumentError(`'${part.trim()}' is too long a range.`)
    for (let number = first; number <= last; number++) numbers.add(number)
  }
  return [...numbers].sort((a, b) => a - b)
}

export interface FileSelection {
  select?: number[]
  exclude?: number[]
}

/**
 * Priorities by `meta.files` index: `--select` wants only the listed files, `--exclude` all but them
 * (both: the selected ones not excluded). `undefined` when neither is given. A number past the last
 * file is a usage error, as is a selection that leaves nothing to download.
 */
export function selectedPriorities(meta: Metainfo, selection: FileSelection): FilePriority[] | undefined {
  if (selection.select === undefined && selection.exclude === undefined) return undefined
  const files = numberedFiles(meta)
  for (const number of [...(selection.select ?? []), ...(selection.exclude ?? [])]) {
    if (number >= files.length) {
      throw new UsageError(
        `no file ${number}: the torrent has ${files.length} (numbered from 0; see bt info)`,
      )
    }
  }
  const selected = new Set(selection.select ?? files.map((file) => file.number))
  for (const number of selection.exclude ?? []) selected.delete(number)
  if (selected.size === 0) throw new UsageError('the selection leaves no file to download')
  const priorities: FilePriority[] = meta.files.map(() => 'skip')
  for (const { number, index } of files) if (selected.has(number)) priorities[index] = 'normal'
  return priorities
}

/** The files as `--json` lists them: the number people use, the path, and whether it is downloaded. */
export function fileList(
  meta: Metainfo,
  torrent: Pick<Torrent, 'fileProgress'>,
): { index: number; path: string; length: number; wanted: boolean }[] {
  const priorities = new Map(torrent.fileProgress().map((file) => [file.index, file.priority]))
  return numberedFiles(meta).map(({ number, index, file }) => ({
    index: number,
    path: file.path.join('/'),
    length: file.length,
    wanted: priorities.get(index) !== 'skip',
  }))
}

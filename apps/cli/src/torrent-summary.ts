// How `bt info` (and later `bt magnet_info`) shows a torrent: the fixed line block scripts parse,
// the human extras after it, and the `--json` document.
import type { MagnetLink, Metainfo } from '@bt/metainfo'
import { numberedFiles } from './file-selection.js'
import { displayText } from './output.js'

/**
 * `announce`, else the first tracker of `announce-list`, else empty: the line is always printed so
 * scripts reading the block by position never shift.
 */
export function trackerUrl(meta: Metainfo): string {
  return meta.announce ?? meta.announceList.flat()[0] ?? ''
}

export function pieceHashesHex(meta: Metainfo): string[] {
  const hex = Buffer.from(meta.pieces.buffer, meta.pieces.byteOffset, meta.pieces.byteLength).toString('hex')
  const hashes: string[] = new Array(meta.pieceCount)
  for (let index = 0; index < meta.pieceCount; index++) hashes[index] = hex.slice(index * 40, index * 40 + 40)
  return hashes
}

const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0))

/**
 * One 40-hex line per piece, `\n`-separated, as one string: written byte by byte into one buffer, since
 * a string per piece is what made `bt info` of a 200 000-piece torrent slow.
 */
function pieceHashLines(meta: Metainfo): string {
  const { pieces, pieceCount } = meta
  if (pieceCount === 0) return ''
  const out = Buffer.allocUnsafe(pieceCount * 41 - 1)
  let at = 0
  for (let index = 0; index < pieceCount; index++) {
    if (index > 0) out[at++] = 10
    for (let byte = index * 20, end = byte + 20; byte < end; byte++) {
      const value = pieces[byte]!
      out[at++] = HEX_DIGITS[value >> 4]!
      out[at++] = HEX_DIGITS[value & 15]!
    }
  }
  return out.toString('latin1')
}

/** The exact block of DESIGN §4, in this order. */
export function requiredInfoLines(meta: Metainfo): string[] {
  return [
    `Tracker URL: ${displayText(trackerUrl(meta))}`,
    `Length: ${meta.length}`,
    `Info Hash: ${meta.infoHash}`,
    `Piece Length: ${meta.pieceLength}`,
    'Piece Hashes:',
    ...(meta.pieceCount > 0 ? [pieceHashLines(meta)] : []),
  ]
}

/** Everything else worth seeing; always after the required block so its line positions never move. */
export function detailLines(meta: Metainfo): string[] {
  const lines = [`Name: ${displayText(meta.name)}`]
  if (meta.multiFile) {
    // Numbered as --select takes them; padding files (BEP 47) only align pieces and are left out.
    lines.push('Files:')
    for (const { number, file } of numberedFiles(meta)) {
      lines.push(`  ${number}  ${file.length}  ${displayText(file.path.join('/'))}`)
    }
  }
  lines.push(`Private: ${meta.private ? 'yes' : 'no'}`)
  if (meta.comment !== undefined) lines.push(`Comment: ${displayText(meta.comment)}`)
  if (meta.createdBy !== undefined) lines.push(`Created By: ${displayText(meta.createdBy)}`)
  const created = isoDate(meta.creationDate)
  if (created !== null) lines.push(`Creation Date: ${created}`)
  if (meta.urlList.length > 0) {
    lines.push('Web Seeds:')
    for (const url of meta.urlList) lines.push(`  ${displayText(url)}`)
  }
  if (meta.announceList.length > 0) {
    lines.push('Trackers:')
    meta.announceList.forEach((tier, index) => {
      for (const url of tier) lines.push(`  tier ${index + 1}: ${displayText(url)}`)
    })
  }
  return lines
}

export interface InfoJson {
  infoHash: string
  name: string
  length: number
  pieceLength: number
  pieceCount: number
  pieceHashes: string[]
  announce: string | null
  announceList: string[][]
  multiFile: boolean
  /** Every file in torrent order; `index` is the number `--select` takes (null for padding files). */
  files: { index: number | null; path: string; length: number; padding: boolean }[]
  private: boolean
  urlList: string[]
  comment: string | null
  createdBy: string | null
  creationDate: string | null
}

/** Absent fields are `null` rather than missing, so every document has the same keys. */
export function infoJson(meta: Metainfo): InfoJson {
  const numbers = new Map(numberedFiles(meta).map(({ number, index }) => [index, number]))
  return {
    infoHash: meta.infoHash,
    name: meta.name,
    length: meta.length,
    pieceLength: meta.pieceLength,
    pieceCount: meta.pieceCount,
    pieceHashes: pieceHashesHex(meta),
    announce: meta.announce ?? null,
    announceList: meta.announceList,
    multiFile: meta.multiFile,
    files: meta.files.map((file, index) => ({
      index: numbers.get(index) ?? null,
      path: file.path.join('/'),
      length: file.length,
      padding: file.padding,
    })),
    private: meta.private,
    urlList: meta.urlList,
    comment: meta.comment ?? null,
    createdBy: meta.createdBy ?? null,
    creationDate: isoDate(meta.creationDate),
  }
}

/** A creation date far outside the Date range is an Invalid Date: shown as absent, never thrown. */
function isoDate(date: Date | undefined): string | null {
  if (date === undefined || Number.isNaN(date.getTime())) return null
  return date.toISOString()
}

/**
 * What a magnet link alone says (no length or pieces: those arrive with the metadata from peers).
 * The first two lines are those of `bt magnet_parse`.
 */
export function magnetLines(magnet: MagnetLink): string[] {
  const lines = [`Tracker URL: ${displayText(magnet.trackers[0] ?? '')}`, `Info Hash: ${magnet.infoHash}`]
  if (magnet.name !== undefined) lines.push(`Name: ${displayText(magnet.name)}`)
  const lists: [string, readonly string[]][] = [
    ['Trackers:', magnet.trackers],
    ['Web Seeds:', magnet.webSeeds],
    ['Peers:', magnet.peers],
  ]
  for (const [title, entries] of lists) {
    if (entries.length === 0) continue
    lines.push(title)
    for (const entry of entries) lines.push(`  ${displayText(entry)}`)
  }
  return lines
}

export function magnetJson(magnet: MagnetLink): {
  infoHash: string
  name: string | null
  trackers: string[]
  webSeeds: string[]
  peers: string[]
} {
  return {
    infoHash: magnet.infoHash,
    name: magnet.name ?? null,
    trackers: magnet.trackers,
    webSeeds: magnet.webSeeds,
    peers: magnet.peers,
  }
}

// Reads a v1 (or hybrid v1/v2) .torrent into a validated `Metainfo`. The info hash is the SHA-1 of the
// `info` bytes exactly as they appear in the file, never of a re-encoding, so torrents that break the
// bencode rules still hash to what every other client computes.
import {
  BencodeDecodeError,
  type BencodeDict,
  type BencodeValue,
  bytesToUtf8,
  bytesToUtf8Strict,
  decode,
  spanOf,
} from '@bt/bencode'
import { InvalidTorrentError, UnsupportedTorrentError } from './errors.js'
import { createFileLayout } from './file-layout.js'
import { infoHashToHex, sha1 } from './info-hash.js'
import { sanitizePath, sanitizePathComponent } from './safe-path.js'
import type { Metainfo, TorrentFile } from './types.js'
import { UniquePaths } from './unique-paths.js'
import { cleanUrl, cleanUrls, trackerTiers } from './urls.js'

/**
 * Largest accepted piece length. Real torrents stay at or below 64 MiB (libtorrent's creator caps at
 * 128 MiB); a piece is held in memory while it is verified, so a bigger one is a memory hazard, not a
 * torrent anyone made on purpose.
 */
export const MAX_PIECE_LENGTH = 256 * 1024 * 1024

/** Default cap on the number of files, which bounds the memory a hostile torrent can make us spend. */
export const DEFAULT_MAX_FILES = 1_000_000

export interface ParseTorrentOptions {
  /**
   * Reject bencode that breaks the canonical rules (unsorted or duplicate keys, leading zeros, trailing
   * bytes). By default such input is read leniently, as real-world clients do.
   */
  strict?: boolean
  /** Most files a torrent may list. Default 1 000 000. */
  maxFiles?: number
}

export interface ParseInfoDictOptions extends ParseTorrentOptions {
  /** Trackers known from elsewhere (a magnet link's `tr`), one tier each. */
  trackers?: readonly string[]
  /** Web seeds known from elsewhere (a magnet link's `ws`). */
  webSeeds?: readonly string[]
}

/**
 * Parses and validates a .torrent file. Throws `InvalidTorrentError` for malformed or inconsistent
 * torrents, `UnsupportedTorrentError` for v2-only torrents and `UnsafePathError` for file paths that
 * cannot be made safe. File paths are sanitised and kept apart (see `sanitizePathComponent`).
 */
export function parseTorrent(bytes: Uint8Array, options: ParseTorrentOptions = {}): Metainfo {
  const [root, strict] = decodeDictionary(bytes, 'torrent', options)
  const info = root.get('info')
  if (info === undefined) throw new InvalidTorrentError('info', 'missing')
  if (!(info instanceof Map)) throw new InvalidTorrentError('info', 'not a dictionary')
  // Located with the strictness the decode succeeded with, so it finds the dict that was decoded.
  const span = spanOf(bytes, ['info'], { strict })
  const announce = optionalUrl(root.get('announce'))
  return buildMetainfo(info, copy(bytes.subarray(span.start, span.end)), options, {
    announce,
    announceList: trackerTiers(announce, announceListTiers(root.get('announce-list'))),
    urlList: cleanUrls(urlListEntries(root.get('url-list'))),
    comment: preferredText(root, 'comment'),
    createdBy: preferredText(root, 'created by'),
    creationDate: optionalDate(root.get('creation date')),
  })
}

/**
 * Builds a `Metainfo` from a bare `info` dictionary, as BEP 9 delivers it for a magnet link; pass the
 * magnet's `trackers` and `webSeeds` along. Compare the resulting `infoHash` with the one expected.
 */
export function parseInfoDict(infoBytes: Uint8Array, options: ParseInfoDictOptions = {}): Metainfo {
  const [info] = decodeDictionary(infoBytes, 'info', options)
  const announceList = trackerTiers(
    undefined,
    (options.trackers ?? []).map((tracker) => [tracker]),
  )
  return buildMetainfo(info, copy(infoBytes), options, {
    announce: announceList[0]?.[0],
    announceList,
    urlList: cleanUrls(options.webSeeds ?? []),
    comment: undefined,
    createdBy: undefined,
    creationDate: undefined,
  })
}

type OuterFields = Pick<
  Metainfo,
  'announce' | 'announceList' | 'urlList' | 'comment' | 'createdBy' | 'creationDate'
>

/**
 * A plain Uint8Array copy: the result never aliases the caller's buffer (which they may reuse), and a
 * Buffer's `slice` would not copy.
 */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

/** Decodes strictly, then leniently unless told not to; says which one succeeded. */
function decodeDictionary(
  bytes: Uint8Array,
  field: string,
  options: ParseTorrentOptions,
): [dict: BencodeDict, strict: boolean] {
  let value: BencodeValue
  let strict = true
  try {
    value = decode(bytes)
  } catch (strictError) {
    if (!(strictError instanceof BencodeDecodeError)) throw strictError
    if (options.strict) throw notBencode(field, strictError)
    strict = false
    try {
      value = decode(bytes, { strict })
    } catch (lenientError) {
      if (!(lenientError instanceof BencodeDecodeError)) throw lenientError
      throw notBencode(field, lenientError)
    }
  }
  if (!(value instanceof Map)) throw new InvalidTorrentError(field, 'not a dictionary')
  return [value, strict]
}

function notBencode(field: string, cause: BencodeDecodeError): InvalidTorrentError {
  return new InvalidTorrentError(field, `not valid bencode (${cause.message})`, { cause })
}

function buildMetainfo(
  info: BencodeDict,
  infoBytes: Uint8Array,
  options: ParseTorrentOptions,
  outer: OuterFields,
): Metainfo {
  const piecesValue = info.get('pieces')
  if (piecesValue === undefined) {
    const metaVersion = info.get('meta version')
    if (metaVersion === 2) {
      throw new UnsupportedTorrentError(
        'v2-only',
        'BitTorrent v2-only torrents (no v1 `pieces`) are not supported',
      )
    }
    if (metaVersion !== undefined) {
      throw new UnsupportedTorrentError(
        'meta-version',
        `meta version ${String(metaVersion)} is not supported`,
      )
    }
    throw new InvalidTorrentError('info.pieces', 'missing')
  }
  if (!(piecesValue instanceof Uint8Array)) throw new InvalidTorrentError('info.pieces', 'not a byte string')
  if (piecesValue.length % 20 !== 0) {
    throw new InvalidTorrentError('info.pieces', `length ${piecesValue.length} is not a multiple of 20`)
  }

  const pieceLength = requireInteger(info.get('piece length'), 'info.piece length')
  if (pieceLength <= 0 || pieceLength > MAX_PIECE_LENGTH) {
    throw new InvalidTorrentError('info.piece length', `${pieceLength} is outside [1, ${MAX_PIECE_LENGTH}]`)
  }

  const rawName = preferredText(info, 'name')
  if (rawName === undefined || rawName === '') throw new InvalidTorrentError('info.name', 'missing')
  const name = sanitizePathComponent(rawName)

  const filesValue = info.get('files')
  const multiFile = filesValue !== undefined
  const files = multiFile
    ? readFiles(filesValue, options.maxFiles ?? DEFAULT_MAX_FILES)
    : [
        {
          path: [name],
          originalPath: [rawName],
          length: requireLength(info.get('length'), 'info.length'),
          offset: 0,
          padding: false,
        },
      ]

  let total = 0
  for (const file of files) {
    file.offset = total
    total += file.length
    if (!Number.isSafeInteger(total)) {
      throw new InvalidTorrentError(multiFile ? 'info.files' : 'info.length', 'total length exceeds 2^53 - 1')
    }
  }
  if (total === 0)
    throw new InvalidTorrentError(multiFile ? 'info.files' : 'info.length', 'the torrent has no content')
  const pieceCount = piecesValue.length / 20
  const expectedPieces = Math.ceil(total / pieceLength)
  if (pieceCount !== expectedPieces) {
    throw new InvalidTorrentError(
      'info.pieces',
      `${pieceCount} piece hashes, but ${total} bytes in pieces of ${pieceLength} make ${expectedPieces}`,
    )
  }

  const pieces = copy(piecesValue)
  const infoHashBytes = sha1(infoBytes)
  return {
    infoHash: infoHashToHex(infoHashBytes),
    infoHashBytes,
    infoBytes,
    name,
    ...outer,
    private: isNonZeroInteger(info.get('private')),
    pieceLength,
    pieceCount,
    pieces,
    length: total,
    multiFile,
    files,
    layout: createFileLayout(
      files.map((file) => file.length),
      pieceLength,
    ),
    pieceHash(index: number): Uint8Array {
      if (!Number.isInteger(index) || index < 0 || index >= pieceCount) {
        throw new RangeError(`piece index ${index} is outside [0, ${pieceCount})`)
      }
      return pieces.subarray(index * 20, index * 20 + 20)
    },
  }
}

function readFiles(value: BencodeValue, maxFiles: number): TorrentFile[] {
  if (!Array.isArray(value)) throw new InvalidTorrentError('info.files', 'not a list')
  if (value.length === 0) throw new InvalidTorrentError('info.files', 'empty')
  if (value.length > maxFiles) {
    throw new InvalidTorrentError('info.files', `${value.length} files, more than the limit of ${maxFiles}`)
  }
  const unique = new UniquePaths()
  const files: TorrentFile[] = new Array(value.length)
  for (let index = 0; index < value.length; index++) {
    const entry = value[index]!
    if (!(entry instanceof Map)) throw new InvalidTorrentError(`info.files[${index}]`, 'not a dictionary')
    const lengthValue = entry.get('length')
    // Field names are built only for an error: a million template strings would cost more than parsing.
    const length =
      typeof lengthValue === 'number' && lengthValue >= 0
        ? lengthValue
        : requireLength(lengthValue, `info.files[${index}].length`)
    const originalPath = readPath(entry, index)
    const padding = isPaddingFile(entry.get('attr'))
    // Padding files are never written, so they take no name on disk and cannot collide.
    const path = padding ? paddingPath(originalPath, length) : unique.claim(sanitizePath(originalPath, index))
    files[index] = { path, originalPath, length, offset: 0, padding }
  }
  return files
}

/** `path.utf-8` when it is a valid UTF-8 list, else `path` (read as UTF-8, invalid bytes as U+FFFD). */
function readPath(entry: BencodeDict, fileIndex: number): string[] {
  const utf8 = entry.get('path.utf-8')
  if (Array.isArray(utf8) && utf8.length > 0) {
    const components: string[] = []
    for (const component of utf8) {
      const text = component instanceof Uint8Array ? bytesToUtf8Strict(component) : undefined
      if (text === undefined) break
      components.push(text)
    }
    if (components.length === utf8.length) return components
  }
  const path = entry.get('path')
  const field = () => `info.files[${fileIndex}].path`
  if (path === undefined) throw new InvalidTorrentError(field(), 'missing')
  if (!Array.isArray(path) || path.length === 0)
    throw new InvalidTorrentError(field(), 'not a non-empty list')
  const components: string[] = new Array(path.length)
  for (let index = 0; index < path.length; index++) {
    const component = path[index]
    if (!(component instanceof Uint8Array)) {
      throw new InvalidTorrentError(`${field()}[${index}]`, 'not a byte string')
    }
    components[index] = bytesToUtf8(component)
  }
  return components
}

function paddingPath(originalPath: readonly string[], length: number): string[] {
  try {
    return sanitizePath(originalPath)
  } catch {
    return ['.pad', String(length)]
  }
}

/** BEP 47: `attr` is a byte string of flags; `p` marks a padding file. */
function isPaddingFile(attr: BencodeValue | undefined): boolean {
  return attr instanceof Uint8Array && attr.includes(0x70)
}

function requireInteger(value: BencodeValue | undefined, field: string): number {
  if (value === undefined) throw new InvalidTorrentError(field, 'missing')
  if (typeof value === 'bigint') throw new InvalidTorrentError(field, `${value} is too large`)
  if (typeof value !== 'number') throw new InvalidTorrentError(field, 'not an integer')
  return value
}

function requireLength(value: BencodeValue | undefined, field: string): number {
  const length = requireInteger(value, field)
  if (length < 0) throw new InvalidTorrentError(field, `${length} is negative`)
  return length
}

function isNonZeroInteger(value: BencodeValue | undefined): boolean {
  return (typeof value === 'number' || typeof value === 'bigint') && value !== 0 && value !== 0n
}

/** `<key>.utf-8` when present and valid UTF-8, else `<key>` read as UTF-8; `undefined` if neither is text. */
function preferredText(dict: BencodeDict, key: string): string | undefined {
  const utf8 = dict.get(`${key}.utf-8`)
  if (utf8 instanceof Uint8Array) {
    const text = bytesToUtf8Strict(utf8)
    if (text !== undefined && text !== '') return text
  }
  const value = dict.get(key)
  return value instanceof Uint8Array ? bytesToUtf8(value) : undefined
}

// Optional descriptive fields never fail a torrent: a mistyped one is treated as absent.

function optionalUrl(value: BencodeValue | undefined): string | undefined {
  return value instanceof Uint8Array ? cleanUrl(bytesToUtf8(value)) : undefined
}

function optionalDate(value: BencodeValue | undefined): Date | undefined {
  if (typeof value !== 'number') return undefined
  const date = new Date(value * 1000)
  return Number.isNaN(date.getTime()) ? undefined : date
}

/** `announce-list` tiers as text. Tolerates a flat list of URLs (each its own tier) and skips junk. */
function announceListTiers(value: BencodeValue | undefined): string[][] {
  if (!Array.isArray(value)) return []
  const tiers: string[][] = []
  for (const tier of value) {
    if (tier instanceof Uint8Array) tiers.push([bytesToUtf8(tier)])
    else if (Array.isArray(tier)) {
      tiers.push(tier.filter((url) => url instanceof Uint8Array).map((url) => bytesToUtf8(url)))
    }
  }
  return tiers
}

/** BEP 19 `url-list`: one URL or a list of them. */
function urlListEntries(value: BencodeValue | undefined): string[] {
  if (value instanceof Uint8Array) return [bytesToUtf8(value)]
  if (!Array.isArray(value)) return []
  return value.filter((url) => url instanceof Uint8Array).map((url) => bytesToUtf8(url))
}

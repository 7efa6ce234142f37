// Real torrents for tests and benchmarks: an info dictionary is bencoded here and parsed by @bt/metainfo,
// with deterministic pseudo-random content (padding files hold zeros, as BEP 47 requires).
import { createHash } from 'node:crypto'
import { type Metainfo, parseInfoDict } from '@bt/metainfo'

export interface TestFile {
  path: string[]
  length: number
  padding?: boolean
}

export interface TorrentSpec {
  name: string
  pieceLength: number
  /** A single-file torrent of this many bytes, or the files of a multi-file torrent. */
  files: number | TestFile[]
  /** Changes the content (and so the hashes). */
  seed?: number
  /** Fills `target` with the content at `offset` of the torrent; defaults to a hash-like byte pattern. */
  fill?: (offset: number, target: Uint8Array) => void
}

export interface TestTorrent {
  meta: Metainfo
  /** Piece `index` exactly as its hash expects it. */
  piece(index: number): Uint8Array
  /** The content of file `fileIndex`. */
  file(fileIndex: number): Uint8Array
}

export function buildTorrent(spec: TorrentSpec): TestTorrent {
  const seed = spec.seed ?? 1
  const fill = spec.fill ?? ((offset, target) => fillPattern(seed, offset, target))
  const files: TestFile[] =
    typeof spec.files === 'number' ? [{ path: [spec.name], length: spec.files }] : spec.files
  const total = files.reduce((sum, file) => sum + file.length, 0)
  const paddingRanges: [number, number][] = []
  let offset = 0
  for (const file of files) {
    if (file.padding) paddingRanges.push([offset, offset + file.length])
    offset += file.length
  }
  const range = (start: number, length: number): Uint8Array => {
    const bytes = new Uint8Array(length)
    fill(start, bytes)
    for (const [from, to] of paddingRanges) {
      if (to > start && from < start + length)
        bytes.fill(0, Math.max(from, start) - start, Math.min(to, start + length) - start)
    }
    return bytes
  }
  const pieceCount = Math.ceil(total / spec.pieceLength)
  const pieceAt = (index: number) =>
    range(index * spec.pieceLength, Math.min(spec.pieceLength, total - index * spec.pieceLength))
  const hashes = new Uint8Array(pieceCount * 20)
  for (let index = 0; index < pieceCount; index++) {
    hashes.set(createHash('sha1').update(pieceAt(index)).digest(), index * 20)
  }
  const info = new Map<string, Bencodable>([
    ['name', spec.name],
    ['piece length', spec.pieceLength],
    ['pieces', hashes],
  ])
  if (typeof spec.files === 'number') {
    info.set('length', spec.files)
  } else {
    info.set(
      'files',
      files.map(
        (file) =>
          new Map<string, Bencodable>([
            ['length', file.length],
            ['path', file.path],
            ...(file.padding ? [['attr', 'p'] as [string, Bencodable]] : []),
          ]),
      ),
    )
  }
  const meta = parseInfoDict(bencode(info))
  return {
    meta,
    piece: pieceAt,
    file: (fileIndex) => {
      const file = meta.files[fileIndex]!
      return range(file.offset, file.length)
    },
  }
}

/** Cheap, well-mixed bytes that differ at every offset. */
export function fillPattern(seed: number, offset: number, target: Uint8Array): void {
  for (let index = 0; index < target.length; index++) {
    let x = Math.imul((offset + index) ^ seed, 0x9e3779b1)
    x ^= x >>> 15
    x = Math.imul(x, 0x85ebca77)
    target[index] = (x >>> 13) & 0xff
  }
}

type Bencodable = number | string | Uint8Array | Bencodable[] | Map<string, Bencodable>

function bencode(value: Bencodable): Uint8Array {
  const parts: Buffer[] = []
  const put = (item: Bencodable): void => {
    if (typeof item === 'number') parts.push(Buffer.from(`i${item}e`))
    else if (typeof item === 'string') put(Buffer.from(item))
    else if (item instanceof Uint8Array) parts.push(Buffer.from(`${item.length}:`), Buffer.from(item))
    else if (Array.isArray(item)) {
      parts.push(Buffer.from('l'))
      for (const element of item) put(element)
      parts.push(Buffer.from('e'))
    } else {
      parts.push(Buffer.from('d'))
      for (const key of [...item.keys()].sort()) {
        put(key)
        put(item.get(key) as Bencodable)
      }
      parts.push(Buffer.from('e'))
    }
  }
  put(value)
  return Buffer.concat(parts)
}

/** Byte equality for assertions: vitest's deep equality takes seconds per megabyte of typed array. */
export function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)
}

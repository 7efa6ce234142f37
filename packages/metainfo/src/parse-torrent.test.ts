import { createHash } from 'node:crypto'
import { BencodeDecodeError, type BencodeInput, encode, utf8ToBytes } from '@bt/bencode'
import { describe, expect, it } from 'vitest'
import { InvalidTorrentError, UnsafePathError, UnsupportedTorrentError } from './errors.js'
import { parseInfoDict, parseTorrent } from './parse-torrent.js'
import { isReservedName } from './safe-path.js'
import type { Metainfo } from './types.js'

type Dict = { [key: string]: BencodeInput | undefined }

const PIECE = 16384

function hashes(count: number): Uint8Array {
  return Uint8Array.from({ length: count * 20 }, (_, index) => index % 251)
}

/** A valid single-file torrent of `length` bytes, with `info` and top-level fields overridden. */
function torrent(info: Dict = {}, outer: Dict = {}): Uint8Array {
  const length = typeof info.length === 'number' ? info.length : 40000
  return encode({
    announce: 'http://tracker.example/announce',
    ...outer,
    info: {
      name: 'file.bin',
      'piece length': PIECE,
      pieces: hashes(Math.ceil(length / PIECE)),
      length,
      ...info,
    },
  })
}

/** A valid multi-file torrent with one byte per listed path, unless the entry says otherwise. */
function multiFile(files: Dict[], info: Dict = {}): Uint8Array {
  const total = files.reduce((sum, file) => sum + (typeof file.length === 'number' ? file.length : 1), 0)
  return encode({
    info: {
      name: 'root',
      'piece length': PIECE,
      pieces: info.pieces ?? hashes(Math.ceil(total / PIECE)),
      files: files.map((file) => ({ length: 1, ...file })),
      ...info,
    },
  })
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

function invalidField(bytes: Uint8Array, options?: Parameters<typeof parseTorrent>[1]): string {
  const error = thrown(() => parseTorrent(bytes, options))
  expect(error).toBeInstanceOf(InvalidTorrentError)
  expect((error as InvalidTorrentError).name).toBe('InvalidTorrentError')
  expect((error as Error).message).toMatch(/^metainfo: invalid torrent: /)
  return (error as InvalidTorrentError).field
}

function sha1Hex(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex')
}

describe('parseTorrent', () => {
  it('reads a single-file torrent', () => {
    const bytes = torrent(
      { private: 1 },
      { comment: 'hello', 'created by': 'test 1.0', 'creation date': 1_600_000_000 },
    )
    const metainfo = parseTorrent(bytes)
    const infoBytes = encode({
      length: 40000,
      name: 'file.bin',
      'piece length': PIECE,
      pieces: hashes(3),
      private: 1,
    })
    expect(metainfo.infoBytes).toEqual(infoBytes)
    expect(metainfo.infoHash).toBe(sha1Hex(infoBytes))
    expect(Buffer.from(metainfo.infoHashBytes).toString('hex')).toBe(metainfo.infoHash)
    expect(metainfo).toMatchObject({
      name: 'file.bin',
      announce: 'http://tracker.example/announce',
      announceList: [['http://tracker.example/announce']],
      private: true,
      urlList: [],
      comment: 'hello',
      createdBy: 'test 1.0',
      pieceLength: PIECE,
      pieceCount: 3,
      length: 40000,
      multiFile: false,
      files: [{ path: ['file.bin'], originalPath: ['file.bin'], length: 40000, offset: 0, padding: false }],
    } satisfies Partial<Metainfo>)
    expect(metainfo.creationDate?.toISOString()).toBe('2020-09-13T12:26:40.000Z')
    expect(metainfo.pieceHash(1)).toEqual(hashes(3).subarray(20, 40))
    expect(() => metainfo.pieceHash(3)).toThrow(RangeError)
    expect(metainfo.layout.spansForPiece(2)).toEqual([{ fileIndex: 0, fileOffset: 32768, length: 7232 }])
  })

  it('reads a multi-file torrent with padding files', () => {
    const metainfo = parseTorrent(
      multiFile([
        { path: ['a', 'one.txt'], length: 10 },
        { path: ['.pad', '16374'], length: 16374, attr: 'p' },
        { path: ['b.txt'], length: 5, attr: 'x' },
        { path: ['empty'], length: 0 },
      ]),
    )
    expect(metainfo.multiFile).toBe(true)
    expect(metainfo.name).toBe('root')
    expect(metainfo.length).toBe(16389)
    expect(metainfo.pieceCount).toBe(2)
    expect(metainfo.files.map((file) => [file.path, file.offset, file.padding])).toEqual([
      [['a', 'one.txt'], 0, false],
      [['.pad', '16374'], 10, true],
      [['b.txt'], 16384, false],
      [['empty'], 16389, false],
    ])
    expect(metainfo.layout.spansForPiece(1)).toEqual([{ fileIndex: 2, fileOffset: 0, length: 5 }])
  })

  it('prefers name.utf-8 and path.utf-8 when they are valid UTF-8', () => {
    const metainfo = parseTorrent(
      multiFile(
        [
          { path: [Uint8Array.of(0xb2, 0xe2)], 'path.utf-8': ['测试.txt'] },
          { path: ['fallback.txt'], 'path.utf-8': [Uint8Array.of(0xff)] },
          { path: [Uint8Array.of(0x61, 0xff)] },
        ],
        { name: Uint8Array.of(0xb2, 0xe2), 'name.utf-8': '目录' },
      ),
    )
    expect(metainfo.name).toBe('目录')
    expect(metainfo.files.map((file) => file.path)).toEqual([['测试.txt'], ['fallback.txt'], ['a\uFFFD']])
  })

  it('cleans tracker tiers and web seeds', () => {
    const metainfo = parseTorrent(
      torrent(
        {},
        {
          announce: ' udp://a.example:80 ',
          'announce-list': [
            ['udp://a.example:80', '', 'not a url', 'http://b.example/announce'],
            ['http://b.example/announce', 'http://bad host/'],
            [],
            ['wss://c.example/'],
            'http://flat.example/announce',
            42,
          ],
          'url-list': ['https://seed.example/', 'https://seed.example/', 'ftp:/nohost', 7],
        },
      ),
    )
    expect(metainfo.announce).toBe('udp://a.example:80')
    expect(metainfo.announceList).toEqual([
      ['udp://a.example:80', 'http://b.example/announce'],
      ['wss://c.example/'],
      ['http://flat.example/announce'],
    ])
    expect(metainfo.urlList).toEqual(['https://seed.example/'])
    expect(parseTorrent(torrent({}, { 'url-list': 'https://one.example/' })).urlList).toEqual([
      'https://one.example/',
    ])
  })

  it('falls back to announce when announce-list has nothing usable, and has no trackers without either', () => {
    expect(parseTorrent(torrent({}, { 'announce-list': [[''], []] })).announceList).toEqual([
      ['http://tracker.example/announce'],
    ])
    const trackerless = parseTorrent(torrent({}, { announce: undefined }))
    expect(trackerless.announce).toBeUndefined()
    expect(trackerless.announceList).toEqual([])
  })

  it('ignores mistyped optional fields', () => {
    const metainfo = parseTorrent(
      torrent({ private: 'yes' }, { announce: 5, comment: [1], 'creation date': 10n ** 30n, 'url-list': {} }),
    )
    expect(metainfo).toMatchObject({ announce: undefined, private: false, comment: undefined, urlList: [] })
    expect(metainfo.creationDate).toBeUndefined()
  })

  it('hashes the raw info bytes of non-canonical torrents', () => {
    // Keys out of order and a leading-zero integer: a re-encoding would hash differently.
    const info = `d4:name1:a6:lengthi05e12:piece lengthi16384e6:pieces20:${'x'.repeat(20)}e`
    const bytes = utf8ToBytes(`d4:info${info}8:announce5:nope!e`)
    const metainfo = parseTorrent(bytes)
    expect(metainfo.infoHash).toBe(sha1Hex(utf8ToBytes(info)))
    expect(metainfo.length).toBe(5)
    const error = thrown(() => parseTorrent(bytes, { strict: true }))
    expect(error).toBeInstanceOf(InvalidTorrentError)
    expect((error as InvalidTorrentError).field).toBe('torrent')
    expect((error as InvalidTorrentError).cause).toBeInstanceOf(BencodeDecodeError)
  })

  it.each([
    ['Uint8Array', (bytes: Uint8Array) => bytes],
    ['Buffer', (bytes: Uint8Array) => Buffer.from(bytes)],
  ])('does not keep views into the caller’s %s', (_, wrap) => {
    const bytes = wrap(torrent())
    const metainfo = parseTorrent(bytes)
    const before = metainfo.pieceHash(0).slice()
    const infoBefore = metainfo.infoBytes.slice()
    bytes.fill(0)
    expect(metainfo.pieceHash(0)).toEqual(before)
    expect(metainfo.infoBytes).toEqual(infoBefore)
    expect(metainfo.infoBytes.constructor).toBe(Uint8Array)
    expect(parseInfoDict(infoBefore).infoBytes).not.toBe(infoBefore)
  })

  it.each<[string, () => Uint8Array, string]>([
    ['garbage', () => utf8ToBytes('not bencode'), 'torrent'],
    ['a truncated file', () => torrent().subarray(0, 50), 'torrent'],
    ['a list', () => encode([1, 2]), 'torrent'],
    ['no info', () => encode({ announce: 'http://x/' }), 'info'],
    ['an info list', () => encode({ info: [] }), 'info'],
    ['no pieces', () => torrent({ pieces: undefined }), 'info.pieces'],
    ['pieces not bytes', () => torrent({ pieces: 5 }), 'info.pieces'],
    ['pieces not a multiple of 20', () => torrent({ pieces: new Uint8Array(59) }), 'info.pieces'],
    ['too few piece hashes', () => torrent({ pieces: hashes(2) }), 'info.pieces'],
    ['too many piece hashes', () => torrent({ pieces: hashes(4) }), 'info.pieces'],
    ['no piece length', () => torrent({ 'piece length': undefined }), 'info.piece length'],
    ['piece length 0', () => torrent({ 'piece length': 0 }), 'info.piece length'],
    ['negative piece length', () => torrent({ 'piece length': -16384 }), 'info.piece length'],
    [
      'piece length over 256 MiB',
      () => torrent({ 'piece length': 2 ** 29, pieces: hashes(1) }),
      'info.piece length',
    ],
    ['piece length a string', () => torrent({ 'piece length': '16384' }), 'info.piece length'],
    ['no name', () => torrent({ name: undefined }), 'info.name'],
    ['an empty name', () => torrent({ name: '' }), 'info.name'],
    ['a name that is a list', () => torrent({ name: ['a'] }), 'info.name'],
    ['no length or files', () => torrent({ length: undefined, pieces: hashes(3) }), 'info.length'],
    ['a negative length', () => torrent({ length: -1, pieces: hashes(0) }), 'info.length'],
    ['a huge length', () => torrent({ length: 2n ** 60n, pieces: hashes(1) }), 'info.length'],
    ['zero bytes of content', () => torrent({ length: 0 }), 'info.length'],
    ['files not a list', () => multiFile([], { files: 'x' }), 'info.files'],
    ['an empty file list', () => multiFile([]), 'info.files'],
    [
      'a file that is not a dictionary',
      () => multiFile([], { files: [5], pieces: hashes(0) }),
      'info.files[0]',
    ],
    [
      'a file without length',
      () => multiFile([{ path: ['a'] }, { path: ['b'], length: undefined }]),
      'info.files[1].length',
    ],
    [
      'a file with negative length',
      () => multiFile([{ path: ['a'], length: -5 }], { pieces: hashes(0) }),
      'info.files[0].length',
    ],
    ['a file without path', () => multiFile([{ path: undefined }]), 'info.files[0].path'],
    ['a file with an empty path', () => multiFile([{ path: [] }]), 'info.files[0].path'],
    ['a path component that is not bytes', () => multiFile([{ path: ['a', 1] }]), 'info.files[0].path[1]'],
    [
      'a total beyond 2^53',
      () =>
        multiFile(
          [
            { path: ['a'], length: Number.MAX_SAFE_INTEGER },
            { path: ['b'], length: 1 },
          ],
          { pieces: hashes(1) },
        ),
      'info.files',
    ],
  ])('rejects %s', (_, make, field) => {
    expect(invalidField(make())).toBe(field)
  })

  it('caps the number of files', () => {
    const bytes = multiFile([{ path: ['a'] }, { path: ['b'] }, { path: ['c'] }])
    expect(parseTorrent(bytes).files).toHaveLength(3)
    expect(invalidField(bytes, { maxFiles: 2 })).toBe('info.files')
  })

  it('says v2-only torrents are unsupported and reads hybrids as v1', () => {
    const v2 = encode({ info: { 'meta version': 2, name: 'x', 'piece length': PIECE, 'file tree': {} } })
    const error = thrown(() => parseTorrent(v2))
    expect(error).toBeInstanceOf(UnsupportedTorrentError)
    expect((error as UnsupportedTorrentError).name).toBe('UnsupportedTorrentError')
    expect((error as UnsupportedTorrentError).feature).toBe('v2-only')
    const v3 = encode({ info: { 'meta version': 3, name: 'x', 'piece length': PIECE } })
    expect((thrown(() => parseTorrent(v3)) as UnsupportedTorrentError).feature).toBe('meta-version')
    expect(parseTorrent(torrent({ 'meta version': 2, 'file tree': {} })).length).toBe(40000)
  })
})

describe('parseTorrent path safety', () => {
  it('neutralises hostile components', () => {
    const metainfo = parseTorrent(
      multiFile(
        [
          { path: ['..', '..', 'etc', 'passwd'] },
          { path: ['/', 'abs'] },
          { path: ['C:\\Windows', 'system32'] },
          { path: ['a/../../b'] },
          { path: ['nul\0byte'] },
          { path: ['CON'] },
          { path: ['aux.txt'] },
          { path: ['trailing. . '] },
          { path: ['.', 'dot', ''] },
          { path: [`${'x'.repeat(300)}.txt`] },
        ],
        { name: '../escape' },
      ),
    )
    expect(metainfo.name).toBe('.._escape')
    expect(metainfo.files.map((file) => file.path)).toEqual([
      ['etc', 'passwd'],
      ['_', 'abs'],
      ['C__Windows', 'system32'],
      ['a_.._.._b'],
      ['nul_byte'],
      ['_CON'],
      ['_aux.txt'],
      ['trailing'],
      ['dot'],
      [`${'x'.repeat(251)}.txt`],
    ])
    expect(metainfo.files[0]!.originalPath).toEqual(['..', '..', 'etc', 'passwd'])
    for (const file of metainfo.files) {
      for (const component of file.path) {
        expect(['', '.', '..']).not.toContain(component)
        expect(component).not.toMatch(/[/\\\0]/)
        expect(isReservedName(component)).toBe(false)
      }
    }
  })

  it('keeps colliding files apart, case-insensitively and across file/directory', () => {
    const metainfo = parseTorrent(
      multiFile([
        { path: ['Readme.txt'] },
        { path: ['README.TXT'] },
        { path: ['a', '..', 'Readme.txt'] },
        { path: ['x'] },
        { path: ['x', 'inner'] },
        { path: ['.pad', '1'], attr: 'p' },
        { path: ['.pad', '1'], attr: 'p' },
        { path: ['nul'] },
        { path: ['_nul'] },
      ]),
    )
    expect(metainfo.files.map((file) => file.path)).toEqual([
      ['Readme.txt'],
      ['README (1).TXT'],
      ['a', 'Readme.txt'],
      ['x'],
      ['x (1)', 'inner'],
      ['.pad', '1'],
      ['.pad', '1'],
      ['_nul'],
      ['_nul (1)'],
    ])
  })

  it('refuses a file whose path has nothing usable', () => {
    const error = thrown(() => parseTorrent(multiFile([{ path: ['ok'] }, { path: ['..', '.'] }])))
    expect(error).toBeInstanceOf(UnsafePathError)
    expect((error as UnsafePathError).fileIndex).toBe(1)
    expect((error as UnsafePathError).path).toEqual(['..', '.'])
  })

  it('sanitises the name of a single-file torrent', () => {
    const metainfo = parseTorrent(torrent({ name: '..' }))
    expect(metainfo.name).toBe('_')
    expect(metainfo.files[0]!.path).toEqual(['_'])
    expect(metainfo.files[0]!.originalPath).toEqual(['..'])
  })
})

describe('parseInfoDict', () => {
  it('builds the same metainfo from the bare info dictionary', () => {
    const full = parseTorrent(torrent())
    const metainfo = parseInfoDict(full.infoBytes, {
      trackers: ['udp://a.example:1337', 'bad url', 'udp://a.example:1337', 'http://b.example/announce'],
      webSeeds: ['https://seed.example/'],
    })
    expect(metainfo.infoHash).toBe(full.infoHash)
    expect(metainfo.files).toEqual(full.files)
    expect(metainfo.announce).toBe('udp://a.example:1337')
    expect(metainfo.announceList).toEqual([['udp://a.example:1337'], ['http://b.example/announce']])
    expect(metainfo.urlList).toEqual(['https://seed.example/'])
  })

  it('rejects what is not an info dictionary', () => {
    const error = thrown(() => parseInfoDict(utf8ToBytes('li1ee')))
    expect(error).toBeInstanceOf(InvalidTorrentError)
    expect((error as InvalidTorrentError).field).toBe('info')
  })
})

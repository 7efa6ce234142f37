import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, symlink, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type BencodeDict, type BencodeValue, bytesToUtf8, decode, spanOf } from '@bt/bencode'
import { withTempDir } from '@bt/test-helpers'
import { describe, expect, it } from 'vitest'
import { CreateTorrentError, type CreateTorrentFile, createTorrent } from './create-torrent.js'
import { parseTorrent } from './parse-torrent.js'

const KiB = 1024
const MiB = 1024 * KiB

const sha1 = (bytes: Uint8Array) => new Uint8Array(createHash('sha1').update(bytes).digest())

/** Piece hashes computed the plain way: the whole content in memory, sliced. */
function expectedPieces(content: Uint8Array, pieceLength: number): Uint8Array {
  const parts: Uint8Array[] = []
  for (let offset = 0; offset < content.length; offset += pieceLength) {
    parts.push(sha1(content.subarray(offset, offset + pieceLength)))
  }
  return new Uint8Array(Buffer.concat(parts))
}

function dict(value: BencodeValue | undefined): BencodeDict {
  if (!(value instanceof Map)) throw new Error('expected a dictionary')
  return value
}

function text(value: BencodeValue | undefined): string {
  if (!(value instanceof Uint8Array)) throw new Error('expected a byte string')
  return bytesToUtf8(value)
}

function read(torrent: Uint8Array) {
  const root = dict(decode(torrent))
  const info = dict(root.get('info'))
  const span = spanOf(torrent, ['info'])
  const files = info.has('files')
    ? (info.get('files') as BencodeValue[]).map((entry) => {
        const file = dict(entry)
        return { path: (file.get('path') as BencodeValue[]).map(text), length: file.get('length') as number }
      })
    : undefined
  return {
    root,
    info,
    files,
    infoHash: Buffer.from(sha1(torrent.subarray(span.start, span.end))).toString('hex'),
  }
}

async function rejection(promise: Promise<unknown>): Promise<CreateTorrentError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(CreateTorrentError)
    return err as CreateTorrentError
  }
  throw new Error('expected a rejection')
}

const TRACKER = 'http://127.0.0.1:1/announce'

describe('createTorrent: single file', () => {
  const content = randomBytes(5 * 16 * KiB + 1234)
  const file: CreateTorrentFile = { path: ['data.bin'], length: content.length, source: content }

  it('hashes every piece, the last one shorter', async () => {
    const created = await createTorrent(file, { pieceLength: 16 * KiB, announce: [TRACKER] })
    const { root, info, files, infoHash } = read(created.torrent)
    expect([...info.keys()]).toEqual(['length', 'name', 'piece length', 'pieces'])
    expect(info.get('length')).toBe(content.length)
    expect(text(info.get('name'))).toBe('data.bin')
    expect(info.get('piece length')).toBe(16 * KiB)
    expect(info.get('pieces')).toEqual(expectedPieces(content, 16 * KiB))
    expect(files).toBeUndefined()
    expect(text(root.get('announce'))).toBe(TRACKER)
    expect(root.has('announce-list')).toBe(false)
    expect(root.has('creation date')).toBe(false)
    expect(created).toMatchObject({ infoHash, pieceLength: 16 * KiB, pieceCount: 6, length: content.length })
    expect(Buffer.from(created.infoHashBytes).toString('hex')).toBe(infoHash)
    expect(created.files).toEqual([{ path: ['data.bin'], length: content.length }])
  })

  it('gives the same bytes for the same input', async () => {
    const a = await createTorrent(file, { announce: [TRACKER], comment: 'same' })
    const b = await createTorrent(
      { ...file, source: Buffer.from(content) },
      { announce: [TRACKER], comment: 'same' },
    )
    expect(Buffer.from(a.torrent).equals(b.torrent)).toBe(true)
  })

  it('chooses the piece length from the size when none is given', async () => {
    const created = await createTorrent(file)
    expect(created.pieceLength).toBe(16 * KiB)
  })

  it('reads a file from disk the same as the same bytes in memory', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'data.bin'), content)
      const fromDisk = await createTorrent(join(dir, 'data.bin'), { pieceLength: 32 * KiB })
      const fromMemory = await createTorrent(file, { pieceLength: 32 * KiB })
      expect(Buffer.from(fromDisk.torrent).equals(fromMemory.torrent)).toBe(true)
    })
  })

  it('writes created by, creation date, comment, source and a name override', async () => {
    const created = await createTorrent(file, {
      name: 'renamed.bin',
      comment: 'a comment',
      source: 'SRC',
      creationDate: new Date('2024-05-06T07:08:09.999Z'),
    })
    const { root, info } = read(created.torrent)
    expect(text(root.get('created by'))).toMatch(/^bt\/\d+\.\d+\.\d+/)
    expect(root.get('creation date')).toBe(Date.UTC(2024, 4, 6, 7, 8, 9) / 1000)
    expect(text(root.get('comment'))).toBe('a comment')
    expect(text(info.get('source'))).toBe('SRC')
    expect(text(info.get('name'))).toBe('renamed.bin')
    const anonymous = read((await createTorrent(file, { createdBy: null })).torrent)
    expect(anonymous.root.has('created by')).toBe(false)
  })

  it('sets the private flag inside the info dictionary', async () => {
    const open = await createTorrent(file, { private: false })
    const closed = await createTorrent(file, { private: true })
    expect(read(open.torrent).info.has('private')).toBe(false)
    expect(read(closed.torrent).info.get('private')).toBe(1)
    expect(closed.infoHash).not.toBe(open.infoHash)
  })

  it('writes announce-list tiers only when there is more than one tracker', async () => {
    const tiers = async (announce: string | (string | string[])[]) => {
      const { root } = read((await createTorrent(file, { announce })).torrent)
      const list = root.get('announce-list') as BencodeValue[][] | undefined
      return {
        announce: root.has('announce') ? text(root.get('announce')) : undefined,
        list: list?.map((tier) => tier.map(text)),
      }
    }
    expect(await tiers([])).toEqual({ announce: undefined, list: undefined })
    expect(await tiers('http://a/1')).toEqual({ announce: 'http://a/1', list: undefined })
    expect(await tiers([['http://a/1']])).toEqual({ announce: 'http://a/1', list: undefined })
    expect(await tiers(['http://a/1', 'udp://b:2'])).toEqual({
      announce: 'http://a/1',
      list: [['http://a/1'], ['udp://b:2']],
    })
    expect(await tiers([['http://a/1', 'http://a/2'], [], 'http://b/1'])).toEqual({
      announce: 'http://a/1',
      list: [['http://a/1', 'http://a/2'], ['http://b/1']],
    })
  })

  it('writes one web seed as a string and several as a list', async () => {
    const one = read((await createTorrent(file, { webSeeds: ['http://w/1'] })).torrent)
    expect(text(one.root.get('url-list'))).toBe('http://w/1')
    const two = read((await createTorrent(file, { webSeeds: ['http://w/1', 'http://w/2'] })).torrent)
    expect((two.root.get('url-list') as BencodeValue[]).map(text)).toEqual(['http://w/1', 'http://w/2'])
    expect(read((await createTorrent(file)).torrent).root.has('url-list')).toBe(false)
  })

  it('reports progress up to the total', async () => {
    const big = randomBytes(9 * MiB + 5)
    const seen: [number, number][] = []
    await createTorrent(
      { path: ['big'], length: big.length, source: big },
      { onProgress: (hashed, total) => seen.push([hashed, total]) },
    )
    expect(seen.length).toBeGreaterThan(1)
    expect(seen.at(-1)).toEqual([big.length, big.length])
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThan(seen[i - 1]![0])
  })
})

describe('createTorrent: directories and file lists', () => {
  it('lists a nested tree in byte order of full paths, with hidden, empty and non-ASCII files', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'Mixed Tree')
      const tree: [string, Uint8Array][] = [
        ['a/file1', randomBytes(40_000)],
        ['a/z/deep', randomBytes(3)],
        ['a b', randomBytes(20_000)],
        ['a-b/x', randomBytes(5)],
        ['a.txt', randomBytes(16 * KiB)],
        ['B/c', randomBytes(1)],
        ['.hidden/h', randomBytes(7)],
        ['empty', new Uint8Array(0)],
        ['é/ü.txt', randomBytes(33)],
        ['日本/語', randomBytes(2)],
        // UTF-16 puts the emoji (a surrogate pair) before U+FF46; UTF-8 bytes, as mktorrent compares, after.
        ['😀', randomBytes(4)],
        ['ｆ/wide', randomBytes(6)],
      ]
      for (const [path, bytes] of tree) {
        await mkdir(join(root, path, '..'), { recursive: true })
        await writeFile(join(root, path), bytes)
      }
      await mkdir(join(root, 'empty-dir/inner'), { recursive: true })

      const created = await createTorrent(root, { pieceLength: 16 * KiB, announce: TRACKER })
      const { info, files, infoHash } = read(created.torrent)
      const order = [
        '.hidden/h',
        'B/c',
        'a b',
        'a-b/x',
        'a.txt',
        'a/file1',
        'a/z/deep',
        'empty',
        'é/ü.txt',
        '日本/語',
        'ｆ/wide',
        '😀',
      ]
      expect(files?.map((file) => file.path.join('/'))).toEqual(order)
      const byPath = new Map(tree)
      expect(files?.map((file) => file.length)).toEqual(order.map((path) => byPath.get(path)!.length))
      expect(text(info.get('name'))).toBe('Mixed Tree')
      const content = Buffer.concat(order.map((path) => byPath.get(path)!))
      expect(info.get('pieces')).toEqual(expectedPieces(content, 16 * KiB))
      expect(created.infoHash).toBe(infoHash)
      expect(created.files.map((file) => file.path.join('/'))).toEqual(order)
    })
  })

  it('hashes across file and read-chunk boundaries', async () => {
    await withTempDir(async (dir) => {
      const sizes = [4 * MiB + 3, 0, 5, 9 * MiB - 1, 1, 16 * KiB]
      const contents = sizes.map((size) => randomBytes(size))
      await mkdir(join(dir, 'set'))
      for (const [index, bytes] of contents.entries()) await writeFile(join(dir, 'set', `f${index}`), bytes)
      for (const pieceLength of [16 * KiB, 2 * MiB]) {
        const created = await createTorrent(join(dir, 'set'), { pieceLength })
        const { info } = read(created.torrent)
        expect(info.get('pieces')).toEqual(expectedPieces(Buffer.concat(contents), pieceLength))
      }
    })
  })

  it('keeps the order of an explicit list and mixes disk and memory sources', async () => {
    await withTempDir(async (dir) => {
      const onDisk = randomBytes(30_000)
      await writeFile(join(dir, 'disk.bin'), onDisk)
      const inMemory = randomBytes(20_000)
      const created = await createTorrent(
        [
          { path: ['z', 'last-first'], length: inMemory.length, source: inMemory },
          { path: ['nothing'], length: 0, source: new Uint8Array(0) },
          { path: ['a.bin'], length: onDisk.length, source: join(dir, 'disk.bin') },
        ],
        { name: 'listed', pieceLength: 16 * KiB },
      )
      const { info, files } = read(created.torrent)
      expect(files).toEqual([
        { path: ['z', 'last-first'], length: 20_000 },
        { path: ['nothing'], length: 0 },
        { path: ['a.bin'], length: 30_000 },
      ])
      expect(info.get('pieces')).toEqual(expectedPieces(Buffer.concat([inMemory, onDisk]), 16 * KiB))
    })
  })

  it('follows symbolic links that stay inside the directory', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'linked')
      await mkdir(join(root, 'real'), { recursive: true })
      await writeFile(join(root, 'real/f'), 'content')
      await symlink('real/f', join(root, 'file-link'))
      await symlink('real', join(root, 'dir-link'))
      const { files } = read((await createTorrent(root)).torrent)
      expect(files).toEqual([
        { path: ['dir-link', 'f'], length: 7 },
        { path: ['file-link'], length: 7 },
        { path: ['real', 'f'], length: 7 },
      ])
    })
  })

  it('leaves out FIFOs', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'regular'), 'x')
      expect(spawnSync('mkfifo', [join(dir, 'pipe')]).status).toBe(0)
      const { files } = read((await createTorrent(dir)).torrent)
      expect(files).toEqual([{ path: ['regular'], length: 1 }])
    })
  })
})

describe('createTorrent: read back by parseTorrent', () => {
  it('gives a strictly canonical torrent whose every field reads back', async () => {
    const a = randomBytes(40_000)
    const b = randomBytes(9)
    const created = await createTorrent(
      [
        { path: ['dir', 'a'], length: a.length, source: a },
        { path: ['empty'], length: 0, source: new Uint8Array(0) },
        { path: ['ü'], length: b.length, source: b },
      ],
      {
        name: 'round trip',
        pieceLength: 16 * KiB,
        announce: [['http://a/1', 'http://a/2'], 'udp://b:3'],
        private: true,
        webSeeds: ['http://w/1'],
        comment: 'c',
        createdBy: 'me',
        creationDate: new Date(1_700_000_000_000),
      },
    )
    const parsed = parseTorrent(created.torrent, { strict: true })
    expect(parsed).toMatchObject({
      infoHash: created.infoHash,
      infoHashBytes: created.infoHashBytes,
      name: 'round trip',
      announce: 'http://a/1',
      announceList: [['http://a/1', 'http://a/2'], ['udp://b:3']],
      private: true,
      urlList: ['http://w/1'],
      comment: 'c',
      createdBy: 'me',
      creationDate: new Date(1_700_000_000_000),
      pieceLength: 16 * KiB,
      pieceCount: 3,
      length: a.length + b.length,
      multiFile: true,
    })
    expect(parsed.pieces).toEqual(expectedPieces(Buffer.concat([a, b]), 16 * KiB))
    expect(parsed.files.map(({ path, length, offset }) => ({ path, length, offset }))).toEqual([
      { path: ['dir', 'a'], length: 40_000, offset: 0 },
      { path: ['empty'], length: 0, offset: 40_000 },
      { path: ['ü'], length: 9, offset: 40_000 },
    ])
    expect(parsed.files.map((file) => file.path)).toEqual(created.files.map((file) => file.path))
  })

  it('reads back a single-file torrent', async () => {
    const content = randomBytes(100)
    const created = await createTorrent({ path: ['one.bin'], length: 100, source: content })
    const parsed = parseTorrent(created.torrent, { strict: true })
    expect(parsed).toMatchObject({
      infoHash: created.infoHash,
      name: 'one.bin',
      multiFile: false,
      length: 100,
    })
    expect(parsed.announceList).toEqual([])
    expect(parsed.creationDate).toBeUndefined()
  })
})

describe('createTorrent: refusals', () => {
  const bytes = new Uint8Array([1, 2, 3])
  const one: CreateTorrentFile = { path: ['one'], length: 3, source: bytes }

  it('refuses an empty directory and content of empty files only', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'nothing/inside'), { recursive: true })
      expect((await rejection(createTorrent(join(dir, 'nothing')))).code).toBe('EMPTY')
      await writeFile(join(dir, 'nothing/inside/zero'), '')
      expect((await rejection(createTorrent(join(dir, 'nothing')))).code).toBe('EMPTY')
      expect((await rejection(createTorrent(join(dir, 'nothing/inside/zero')))).code).toBe('EMPTY')
      expect((await rejection(createTorrent([], { name: 'x' }))).code).toBe('EMPTY')
    })
  })

  it.each([
    [{ pieceLength: 1000 }, 'pieceLength'],
    [{ pieceLength: 8 * KiB }, 'pieceLength'],
    [{ announce: ['not a url'] }, 'announce'],
    [{ announce: [['http://ok/', '']] }, 'announce'],
    [{ webSeeds: ['::'] }, 'webSeeds'],
    [{ creationDate: new Date(Number.NaN) }, 'creationDate'],
    [{ name: '..' }, 'name'],
    [{ name: 'a/b' }, 'name'],
    [{ name: 'lone \ud800' }, 'name'],
    [{ comment: 'lone \udc00' }, 'comment'],
  ])('refuses the option %o', async (options, option) => {
    const error = await rejection(createTorrent(one, options))
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option, name: 'CreateTorrentError' })
    expect(error.message).toMatch(/^metainfo: /)
  })

  it('needs a name for a list of files', async () => {
    expect((await rejection(createTorrent([one]))).code).toBe('INVALID_OPTION')
  })

  it.each([
    ['an empty path', [{ path: [], length: 0, source: bytes }]],
    ['a ".." component', [{ path: ['..', 'x'], length: 3, source: bytes }]],
    ['a component with a slash', [{ path: ['a/b'], length: 3, source: bytes }]],
    ['an empty component', [{ path: ['a', ''], length: 3, source: bytes }]],
    ['a length that differs from the bytes', [{ path: ['a'], length: 4, source: bytes }]],
    ['a negative length', [{ path: ['a'], length: -1, source: 'x' }]],
    ['a duplicate path', [one, one]],
    ['a file that is also a directory', [one, { path: ['one', 'two'], length: 3, source: bytes }]],
    ['a directory that is also a file', [{ path: ['one', 'two'], length: 3, source: bytes }, one]],
  ])('refuses a list with %s', async (_, list) => {
    expect((await rejection(createTorrent(list, { name: 'n' }))).code).toBe('INVALID_INPUT')
  })

  it('refuses a single file with a nested path', async () => {
    const nested = { path: ['a', 'b'], length: 3, source: bytes }
    expect((await rejection(createTorrent(nested))).code).toBe('INVALID_INPUT')
  })

  it('refuses symbolic links that leave the directory, dangle or loop', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'outside'), 'secret')
      const root = join(dir, 'root')
      await mkdir(join(root, 'sub'), { recursive: true })
      await writeFile(join(root, 'sub/file'), 'x')

      await symlink('../../outside', join(root, 'sub/escape'))
      const escaping = await rejection(createTorrent(root))
      expect(escaping).toMatchObject({ code: 'SYMLINK_OUTSIDE_ROOT', path: join(root, 'sub/escape') })

      await unlink(join(root, 'sub/escape'))
      await symlink('nowhere', join(root, 'sub/escape'))
      expect((await rejection(createTorrent(root))).code).toBe('SYMLINK_OUTSIDE_ROOT')

      await unlink(join(root, 'sub/escape'))
      await symlink('..', join(root, 'sub/escape'))
      expect((await rejection(createTorrent(root))).code).toBe('SYMLINK_CYCLE')
    })
  })

  it('refuses file names that are not UTF-8', async () => {
    await withTempDir(async (dir) => {
      await writeFile(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe])]), 'x')
      expect((await rejection(createTorrent(dir))).code).toBe('UNSUPPORTED_FILE_NAME')
    })
  })

  it('notices a listed file whose size is not the one given', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'f'), 'four')
      const list = [{ path: ['f'], length: 5, source: join(dir, 'f') }]
      expect((await rejection(createTorrent(list, { name: 'n' }))).code).toBe('FILE_CHANGED')
    })
  })

  it('reports a missing path as a read failure with its cause', async () => {
    await withTempDir(async (dir) => {
      const error = await rejection(createTorrent(join(dir, 'missing')))
      expect(error).toMatchObject({ code: 'READ_FAILED', path: join(dir, 'missing') })
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT')
    })
  })

  it('stops when the signal aborts', async () => {
    const reason = new Error('stop now')
    const aborted = AbortSignal.abort(reason)
    await expect(createTorrent(one, { signal: aborted })).rejects.toBe(reason)

    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'big'), randomBytes(12 * MiB))
      const controller = new AbortController()
      let calls = 0
      const pending = createTorrent(join(dir, 'big'), {
        signal: controller.signal,
        onProgress: () => {
          calls++
          controller.abort(reason)
        },
      })
      await expect(pending).rejects.toBe(reason)
      expect(calls).toBe(1)
    })
  })
})

import { readdir, readFile, stat, truncate, unlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFileStore, type FileStoreInit, type PieceStore, type StorageError } from '../src/index.js'
import {
  describePieceStoreContract,
  multiFileTorrent,
  paddedTorrent,
  singleFileTorrent,
} from './compliance.js'
import { useTempDirs } from './helpers/temp-dirs.js'
import { buildTorrent, sameBytes, type TestTorrent } from './helpers/torrent.js'

const tempDir = useTempDirs()

describePieceStoreContract('file store', async (meta) =>
  createFileStore(meta, { directory: await tempDir(), workers: 1 }),
)

const stores: PieceStore[] = []
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((store) => store.close()))
})

async function open(torrent: TestTorrent, init: FileStoreInit, onProgress?: () => void) {
  const store = await createFileStore(torrent.meta, { workers: 1, ...init }, { onProgress })
  stores.push(store)
  return store
}

async function writeAll(store: PieceStore, torrent: TestTorrent, pieces?: number[]): Promise<void> {
  const indices = pieces ?? Array.from({ length: torrent.meta.pieceCount }, (_, index) => index)
  await Promise.all(indices.map((index) => store.writePiece(index, torrent.piece(index))))
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

describe('file store: files on disk', () => {
  it('puts a multi-file torrent under <directory>/<name>, creating the empty file with its piece', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    expect(store.contentPath).toBe(join(directory, 'multi'))
    await writeAll(store, torrent)
    for (const [index, file] of torrent.meta.files.entries()) {
      expect(sameBytes(await readFile(join(directory, 'multi', ...file.path)), torrent.file(index))).toBe(
        true,
      )
    }
    expect((await stat(join(directory, 'multi', 'empty.txt'))).size).toBe(0)
  })

  it('creates the empty file on reopen when its piece was found complete by a check, not written', async () => {
    // kill -9 after the data but before any resume data: the next open hashes the piece and must not leave
    // the zero-length file out.
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const first = await open(torrent, { directory, resumeFile: null })
    await writeAll(first, torrent)
    await first.close()
    await unlink(join(directory, 'multi', 'empty.txt'))
    const second = await open(torrent, { directory, resumeFile: null })
    expect(second.have.complete).toBe(true)
    expect((await stat(join(directory, 'multi', 'empty.txt'))).size).toBe(0)
  })

  it('puts each file at its filePaths entry (a renamed torrent) and refuses paths that leave the folder', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const paths = torrent.meta.files.map((file) => ['renamed', ...file.path])
    paths[0] = ['renamed', 'first.bin']
    const store = await open(torrent, { directory, filePaths: paths })
    expect(store.contentPath).toBe(join(directory, 'renamed'))
    await writeAll(store, torrent)
    expect(sameBytes(await readFile(join(directory, 'renamed', 'first.bin')), torrent.file(0))).toBe(true)
    expect(await exists(join(directory, 'multi'))).toBe(false)
    const bad = (change: (p: string[][]) => void) => {
      const copy = paths.map((path) => [...path])
      change(copy)
      return createFileStore(torrent.meta, { directory, filePaths: copy, resumeFile: null })
    }
    await expect(bad((p) => (p[1] = ['renamed', '..', 'x']))).rejects.toThrow(TypeError)
    await expect(bad((p) => (p[1] = ['renamed', 'a/b']))).rejects.toThrow(TypeError)
    await expect(bad((p) => (p[1] = ['elsewhere', 'x']))).rejects.toThrow(TypeError)
    await expect(bad((p) => (p[1] = [...p[0]!]))).rejects.toThrow(TypeError)
    await expect(bad((p) => p.pop())).rejects.toThrow(TypeError)
  })

  it('creates only the files the written pieces touch', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    await store.writePiece(2, torrent.piece(2))
    expect(await exists(join(directory, 'multi', 'a.bin'))).toBe(false)
    expect(await exists(join(directory, 'multi', 'empty.txt'))).toBe(false)
    expect(await exists(join(directory, 'multi', 'd.bin'))).toBe(true)
    // The file is sparse: written where the piece lies, never preallocated or appended.
    expect((await stat(join(directory, 'multi', 'dir', 'c.bin'))).size).toBe(30000)
  })

  it('never creates a skipped file, the empty one included, and keeps its bytes out of it', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    store.setFileWanted(1, false)
    store.setFileWanted(2, false)
    await writeAll(store, torrent)
    expect(await exists(join(directory, 'multi', 'empty.txt'))).toBe(false)
    expect(await exists(join(directory, 'multi', 'dir', 'c.bin'))).toBe(false)
    expect(sameBytes(await readFile(join(directory, 'multi', 'a.bin')), torrent.file(0))).toBe(true)
    expect(sameBytes(await readFile(join(directory, 'multi', 'd.bin')), torrent.file(3))).toBe(true)
    // Every piece touches c.bin: none is complete, and the resume data says so.
    expect(store.have.count).toBe(0)
    await store.close()
    const reopened = await open(torrent, { directory })
    expect(reopened.have.count).toBe(0)
    // Wanted after all: written again, the pieces complete and c.bin appears whole.
    await writeAll(reopened, torrent)
    expect(reopened.have.complete).toBe(true)
    expect(sameBytes(await readFile(join(directory, 'multi', 'dir', 'c.bin')), torrent.file(2))).toBe(true)
  })

  it('never writes padding files', async () => {
    const torrent = paddedTorrent()
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    await writeAll(store, torrent)
    expect((await readdir(join(directory, 'padded'))).sort()).toEqual(['a.bin', 'b.bin', 'c.bin'])
  })

  it('writes a single-file torrent to <directory>/<name> or to an exact contentPath', async () => {
    const torrent = singleFileTorrent()
    const directory = await tempDir()
    const first = await open(torrent, { directory })
    await writeAll(first, torrent)
    expect(sameBytes(await readFile(join(directory, 'single.bin')), torrent.file(0))).toBe(true)
    const output = join(await tempDir(), 'out', 'anything.dat')
    const second = await open(torrent, { contentPath: output })
    expect(second.contentPath).toBe(output)
    await writeAll(second, torrent)
    expect(sameBytes(await readFile(output), torrent.file(0))).toBe(true)
    expect(second.resumeFile).toBe(join(output, '..', `.${torrent.meta.infoHash}.bt-resume`))
  })

  it('takes contentPath as the folder of a multi-file torrent', async () => {
    const torrent = multiFileTorrent()
    const folder = join(await tempDir(), 'renamed')
    const store = await open(torrent, { contentPath: folder })
    await writeAll(store, torrent)
    expect(sameBytes(await readFile(join(folder, 'dir', 'c.bin')), torrent.file(2))).toBe(true)
  })

  it('wants exactly one of directory and contentPath', async () => {
    const torrent = singleFileTorrent()
    await expect(createFileStore(torrent.meta, {})).rejects.toThrow(TypeError)
    await expect(createFileStore(torrent.meta, { directory: 'a', contentPath: 'b' })).rejects.toThrow(
      TypeError,
    )
  })

  it('reports files removed or truncated behind its back as StorageError', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const store = await open(torrent, { directory, maxOpenFiles: 1 })
    await writeAll(store, torrent)
    await truncate(join(directory, 'multi', 'd.bin'), 100)
    await expect(store.readBlock(2, 12000, 200)).rejects.toMatchObject({
      name: 'StorageError',
      code: 'SHORT_FILE',
      pieceIndex: 2,
      path: join(directory, 'multi', 'd.bin'),
    })
    await store.readBlock(0, 0, 100) // a.bin now holds the only pooled handle
    await unlink(join(directory, 'multi', 'dir', 'c.bin'))
    await expect(store.readBlock(1, 0, 100)).rejects.toMatchObject({
      name: 'StorageError',
      code: 'ENOENT',
      pieceIndex: 1,
    })
  })

  it('keeps working with more files than open handles', async () => {
    const files = Array.from({ length: 40 }, (_, index) => ({
      path: [`f${index}.bin`],
      length: 1000 + index,
    }))
    const torrent = buildTorrent({ name: 'many', pieceLength: 16384, files })
    const directory = await tempDir()
    const store = await open(torrent, { directory, maxOpenFiles: 3 })
    await writeAll(store, torrent)
    for (let index = 0; index < torrent.meta.pieceCount; index++) {
      expect(sameBytes(await store.readPiece(index), torrent.piece(index))).toBe(true)
    }
    expect(sameBytes(await readFile(join(directory, 'many', 'f39.bin')), torrent.file(39))).toBe(true)
  })
})

describe('file store: resume data', () => {
  it('persists in batches and on close, and trusts unchanged files on reopen without hashing', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    await writeAll(store, torrent, [0, 2])
    const resumeFile = join(directory, `.${torrent.meta.infoHash}.bt-resume`)
    expect(store.resumeFile).toBe(resumeFile)
    expect(await exists(resumeFile)).toBe(false)
    await store.close()
    expect(await exists(resumeFile)).toBe(true)
    let hashed = 0
    const reopened = await open(torrent, { directory }, () => hashed++)
    expect([...reopened.have.indices()]).toEqual([0, 2])
    expect(hashed).toBe(0)
  })

  it('checkpoints after flushPieces pieces or flushInterval ms', async () => {
    const torrent = buildTorrent({ name: 'batch.bin', pieceLength: 16384, files: 16384 * 8 })
    const directory = await tempDir()
    const resumeFile = join(directory, 'state', 'resume.json')
    const store = await open(torrent, { directory, resumeFile, flushPieces: 4, flushInterval: 60_000 })
    await writeAll(store, torrent, [0, 1, 2])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await exists(resumeFile)).toBe(false)
    await store.writePiece(3, torrent.piece(3))
    await expect.poll(() => exists(resumeFile)).toBe(true)
    const timed = await open(torrent, {
      directory: await tempDir(),
      resumeFile: `${resumeFile}2`,
      flushInterval: 30,
    })
    await timed.writePiece(0, torrent.piece(0))
    await expect.poll(() => exists(`${resumeFile}2`)).toBe(true)
  })

  it('re-hashes the complete pieces of a file that changed, and only those', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    await writeAll(store, torrent)
    await store.close()
    // d.bin belongs to piece 2 only; its content is unchanged, only its mtime moves.
    await utimes(join(directory, 'multi', 'd.bin'), new Date(), new Date(Date.now() + 5000))
    const checked: number[] = []
    const touched = await open(torrent, { directory }, () => checked.push(1))
    expect(touched.have.complete).toBe(true)
    expect(checked).toHaveLength(1)
    await touched.close()
    // Now a byte of a.bin (piece 0) really changes.
    const path = join(directory, 'multi', 'a.bin')
    const bytes = await readFile(path)
    bytes[5] = (bytes[5]! + 1) & 0xff
    await writeFile(path, bytes)
    const damaged = await open(torrent, { directory })
    expect([...damaged.have.indices()]).toEqual([1, 2])
  })

  it('ignores unusable resume data, reports it, and checks the disk instead', async () => {
    const torrent = singleFileTorrent()
    const other = buildTorrent({ name: 'single.bin', pieceLength: 32768, files: 70000, seed: 2 })
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    await writeAll(store, torrent, [1])
    await store.close()
    const resumeFile = join(directory, `.${torrent.meta.infoHash}.bt-resume`)
    const otherResume = join(directory, `.${other.meta.infoHash}.bt-resume`)
    const otherStore = await open(other, { directory: await tempDir(), resumeFile: otherResume })
    await otherStore.writePiece(0, other.piece(0))
    await otherStore.close()
    for (const content of ['{"format":"bt-resume"', await readFile(otherResume, 'utf8'), 'x'.repeat(10)]) {
      await writeFile(resumeFile, content)
      const errors: StorageError[] = []
      const reopened = await open(torrent, { directory, onError: (error) => errors.push(error) })
      expect(errors.map((error) => error.code)).toEqual(['BAD_RESUME'])
      expect([...reopened.have.indices()]).toEqual([1])
      await reopened.close()
    }
  })

  it('with check: "always" or without resume file, hashes everything', async () => {
    const torrent = singleFileTorrent()
    const directory = await tempDir()
    const store = await open(torrent, { directory, resumeFile: null })
    await writeAll(store, torrent, [0, 2])
    await store.close()
    expect(await readdir(directory)).toEqual(['single.bin'])
    let hashed = 0
    const again = await open(torrent, { directory, resumeFile: null }, () => hashed++)
    expect([...again.have.indices()]).toEqual([0, 2])
    expect(hashed).toBe(3)
    await again.close()
    const saved = await open(torrent, { directory })
    await saved.close()
    hashed = 0
    const always = await open(torrent, { directory, check: 'always' }, () => hashed++)
    expect(hashed).toBe(3)
    expect([...always.have.indices()]).toEqual([0, 2])
  })

  it('with check: "none", hashes nothing while opening and leaves that to recheck()', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    await writeAll(store, torrent)
    await store.close()
    await utimes(join(directory, 'multi', 'd.bin'), new Date(), new Date(Date.now() + 5000))
    let hashed = 0
    const trusting = await open(torrent, { directory, check: 'none' }, () => hashed++)
    // Piece 2 touches the changed d.bin: not trusted, not hashed either.
    expect([...trusting.have.indices()]).toEqual([0, 1])
    await trusting.close()
    const bare = await open(torrent, { directory, resumeFile: null, check: 'none' }, () => hashed++)
    expect(bare.have.count).toBe(0)
    expect(hashed).toBe(0)
    expect((await bare.recheck()).complete).toBe(true)
  })

  it('can be aborted while hashing on open, leaving the resume data as it was', async () => {
    const torrent = buildTorrent({ name: 'abort.bin', pieceLength: 16384, files: 16384 * 32 })
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    await writeAll(store, torrent)
    await store.close()
    const resumeFile = join(directory, `.${torrent.meta.infoHash}.bt-resume`)
    const saved = await readFile(resumeFile)
    await utimes(join(directory, 'abort.bin'), new Date(), new Date(Date.now() + 5000))
    const controller = new AbortController()
    const opening = createFileStore(
      torrent.meta,
      { directory, workers: 1 },
      {
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.checkedPieces === 3) controller.abort()
        },
      },
    )
    await expect(opening).rejects.toMatchObject({ name: 'AbortError' })
    expect(await readFile(resumeFile)).toEqual(saved)
  })

  it('creates nothing and hashes nothing when there is no content yet', async () => {
    const torrent = multiFileTorrent()
    const directory = join(await tempDir(), 'not-yet')
    let hashed = 0
    const store = await open(torrent, { directory }, () => hashed++)
    await store.close()
    expect(hashed).toBe(0)
    expect(await exists(directory)).toBe(false)
  })
})

describe('file store: recheck', () => {
  async function downloaded(torrent: TestTorrent) {
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    await writeAll(store, torrent)
    return { store, directory }
  }

  it('finds a corrupted byte, a truncated file and a missing file', async () => {
    const torrent = buildTorrent({
      name: 'recheck',
      pieceLength: 16384,
      files: [
        { path: ['one.bin'], length: 16384 * 4 },
        { path: ['two.bin'], length: 16384 * 3 + 100 },
        { path: ['three.bin'], length: 16384 * 2 },
      ],
    })
    const { store, directory } = await downloaded(torrent)
    const one = join(directory, 'recheck', 'one.bin')
    const bytes = await readFile(one)
    bytes[16384 * 2 + 7] = bytes[16384 * 2 + 7]! ^ 0xff
    await writeFile(one, bytes)
    await truncate(join(directory, 'recheck', 'two.bin'), 16384 + 50)
    await unlink(join(directory, 'recheck', 'three.bin'))
    for (const workers of [0, 1, 2]) {
      const result = await store.recheck({ workers })
      // Piece 7 spans the end of two.bin and the start of three.bin.
      expect([...result.indices()]).toEqual([0, 1, 3, 4])
      expect([...store.have.indices()]).toEqual([0, 1, 3, 4])
    }
  })

  it('reports progress in pieces and bytes, and stops on abort', async () => {
    const torrent = buildTorrent({ name: 'progress.bin', pieceLength: 16384, files: 16384 * 64 })
    const { store } = await downloaded(torrent)
    let last = { checkedPieces: 0, checkedBytes: 0, totalBytes: 0, validPieces: 0 }
    await store.recheck({ workers: 2, onProgress: (progress) => (last = progress) })
    expect(last).toMatchObject({
      checkedPieces: 64,
      checkedBytes: 16384 * 64,
      totalBytes: 16384 * 64,
      validPieces: 64,
    })
    const controller = new AbortController()
    const aborted = store.recheck({
      workers: 1,
      onProgress: (progress) => {
        if (progress.checkedPieces === 5) controller.abort()
      },
      signal: controller.signal,
    })
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
    expect(store.have.complete).toBe(true)
  })

  it('keeps the outcome of writes made while it runs', async () => {
    const torrent = buildTorrent({ name: 'busy.bin', pieceLength: 16384, files: 16384 * 32 })
    const directory = await tempDir()
    const store = await open(torrent, { directory })
    await writeAll(
      store,
      torrent,
      Array.from({ length: 31 }, (_, index) => index),
    )
    // Piece 31 is written after the recheck read it as missing but before the recheck commits.
    let write: Promise<boolean> | undefined
    await store.recheck({
      workers: 1,
      onProgress: (progress) => {
        if (progress.checkedPieces === 32) write = store.writePiece(31, torrent.piece(31))
      },
    })
    await write
    expect(store.have.complete).toBe(true)
  })

  it('persists what it found', async () => {
    const torrent = singleFileTorrent()
    const { store, directory } = await downloaded(torrent)
    await truncate(join(directory, 'single.bin'), 40000)
    await store.recheck()
    await store.close()
    let hashed = 0
    const reopened = await open(torrent, { directory }, () => hashed++)
    expect([...reopened.have.indices()]).toEqual([0])
    expect(hashed).toBe(0)
  })
})

// Nothing is written outside the download directory, whatever already sits inside it (DESIGN §6).
import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFileStore, type PieceStore } from '../src/index.js'
import { multiFileTorrent, singleFileTorrent } from './compliance.js'
import { useTempDirs } from './helpers/temp-dirs.js'
import { buildTorrent, sameBytes, type TestTorrent } from './helpers/torrent.js'

const tempDir = useTempDirs()

const stores: PieceStore[] = []
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((store) => store.close()))
})

async function open(torrent: TestTorrent, directory: string) {
  const store = await createFileStore(torrent.meta, { directory, resumeFile: null, workers: 0 })
  stores.push(store)
  return store
}

describe('file store: symbolic links', () => {
  it('refuses a content folder that is a symlink leading outside', async () => {
    const torrent = multiFileTorrent()
    const [directory, outside] = [await tempDir(), await tempDir()]
    await symlink(outside, join(directory, 'multi'))
    const store = await open(torrent, directory)
    await expect(store.writePiece(0, torrent.piece(0))).rejects.toMatchObject({
      name: 'StorageError',
      code: 'UNSAFE_PATH',
      pieceIndex: 0,
    })
    expect(store.have.has(0)).toBe(false)
    expect(await readdir(outside)).toEqual([])
  })

  it('refuses a nested directory symlinked outside', async () => {
    const torrent = multiFileTorrent()
    const [directory, outside] = [await tempDir(), await tempDir()]
    await mkdir(join(directory, 'multi'))
    await symlink(outside, join(directory, 'multi', 'dir'))
    const store = await open(torrent, directory)
    await expect(store.writePiece(1, torrent.piece(1))).rejects.toMatchObject({ code: 'UNSAFE_PATH' })
    expect(await readdir(outside)).toEqual([])
  })

  it('neither writes through nor reads through a symlinked file', async () => {
    const torrent = singleFileTorrent()
    const [directory, outside] = [await tempDir(), await tempDir()]
    // The target even holds the right content: following the link would "verify" someone else's file.
    const target = join(outside, 'target.bin')
    await writeFile(target, torrent.file(0))
    await symlink(target, join(directory, 'single.bin'))
    const store = await open(torrent, directory)
    expect([...(await store.recheck()).indices()]).toEqual([])
    expect(await store.verifyPiece(0)).toBe(false)
    await expect(store.writePiece(0, torrent.piece(0))).rejects.toMatchObject({ code: 'UNSAFE_PATH' })
    expect(sameBytes(await readFile(target), torrent.file(0))).toBe(true)
  })

  it('follows a directory symlink that stays inside the download directory', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    await mkdir(join(directory, 'elsewhere', 'real'), { recursive: true })
    await symlink(join(directory, 'elsewhere', 'real'), join(directory, 'multi'))
    const store = await open(torrent, directory)
    await store.writePiece(0, torrent.piece(0))
    expect((await readFile(join(directory, 'elsewhere', 'real', 'a.bin'))).length).toBe(10000)
  })
})

describe('file store: things in the way', () => {
  const torrent = buildTorrent({
    name: 'blocked',
    pieceLength: 16384,
    files: [
      { path: ['a.bin'], length: 32768 },
      { path: ['dir', 'c.bin'], length: 16384 },
      { path: ['d.bin'], length: 16384 },
    ],
  })

  it('reports a file where a directory belongs as ENOTDIR, keeping complete pieces', async () => {
    const directory = await tempDir()
    const store = await open(torrent, directory)
    await store.writePiece(0, torrent.piece(0))
    await writeFile(join(directory, 'blocked', 'dir'), 'in the way')
    await expect(store.writePiece(2, torrent.piece(2))).rejects.toMatchObject({
      name: 'StorageError',
      code: 'ENOTDIR',
      pieceIndex: 2,
      path: join(directory, 'blocked', 'dir'),
    })
    expect([...store.have.indices()]).toEqual([0])
    expect(await store.verifyPiece(0)).toBe(true)
    await store.writePiece(3, torrent.piece(3))
    expect([...(await store.recheck()).indices()]).toEqual([0, 3])
  })

  it('reports a directory where a file belongs', async () => {
    const directory = await tempDir()
    await mkdir(join(directory, 'blocked', 'd.bin'), { recursive: true })
    const store = await open(torrent, directory)
    await expect(store.writePiece(3, torrent.piece(3))).rejects.toMatchObject({
      name: 'StorageError',
      code: 'EISDIR',
    })
    expect(await store.verifyPiece(3)).toBe(false)
  })

  it('refuses a FIFO where a file belongs without blocking on it', async () => {
    const directory = await tempDir()
    await mkdir(join(directory, 'blocked'))
    execFileSync('mkfifo', [join(directory, 'blocked', 'd.bin')])
    const store = await open(torrent, directory)
    await expect(store.writePiece(3, torrent.piece(3))).rejects.toMatchObject({ code: 'NOT_A_FILE' })
    expect(await store.verifyPiece(3)).toBe(false)
    expect((await stat(join(directory, 'blocked', 'd.bin'))).isFIFO()).toBe(true)
  })
})

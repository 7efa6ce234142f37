// `destroy` on the file store: the torrent's files, its emptied folders and its resume data go; nothing
// else in the download directory does, and no symlink leads the deletion outside it.
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFileStore, type FileStore, type FileStoreInit } from '../src/index.js'
import { multiFileTorrent, paddedTorrent, singleFileTorrent } from './compliance.js'
import { useTempDirs } from './helpers/temp-dirs.js'
import type { TestTorrent } from './helpers/torrent.js'

const tempDir = useTempDirs()

const stores: FileStore[] = []
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((store) => store.close()))
})

/** A store holding every piece of `torrent`, its resume data written. */
async function complete(torrent: TestTorrent, init: FileStoreInit): Promise<FileStore> {
  const store = await createFileStore(torrent.meta, { workers: 0, ...init })
  stores.push(store)
  await Promise.all(
    Array.from({ length: torrent.meta.pieceCount }, (_, index) =>
      store.writePiece(index, torrent.piece(index)),
    ),
  )
  await store.flush()
  return store
}

const list = async (path: string) => (await readdir(path)).sort()

describe('file store: destroy', () => {
  it('deletes a multi-file torrent, its folder and its resume data, keeping the rest of the directory', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    await writeFile(join(directory, 'other.txt'), 'not the torrent')
    const store = await complete(torrent, { directory })
    expect(await list(directory)).toEqual([`.${torrent.meta.infoHash}.bt-resume`, 'multi', 'other.txt'])
    await store.destroy()
    expect(await list(directory)).toEqual(['other.txt'])
    expect(await readFile(join(directory, 'other.txt'), 'utf8')).toBe('not the torrent')
  })

  it('keeps folders that still hold files of someone else', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const store = await complete(torrent, { directory })
    await writeFile(join(directory, 'multi', 'dir', 'notes.txt'), 'mine')
    await mkdir(join(directory, 'multi', 'dir', 'empty-but-mine'))
    await store.destroy()
    expect(await list(directory)).toEqual(['multi'])
    expect(await list(join(directory, 'multi'))).toEqual(['dir'])
    expect(await list(join(directory, 'multi', 'dir'))).toEqual(['empty-but-mine', 'notes.txt'])
  })

  it('deletes after close, and again when something came back', async () => {
    const torrent = singleFileTorrent()
    const directory = await tempDir()
    const resumeFile = join(directory, 'state', 'single.resume')
    const store = await complete(torrent, { directory, resumeFile })
    await store.close()
    expect(await list(join(directory, 'state'))).toEqual(['single.resume'])
    await store.destroy()
    expect(await list(directory)).toEqual(['state'])
    expect(await list(join(directory, 'state'))).toEqual([])
    await writeFile(join(directory, 'single.bin'), 'again')
    await writeFile(`${resumeFile}.tmp`, 'a checkpoint cut short')
    await store.destroy()
    expect(await list(directory)).toEqual(['state'])
    expect(await list(join(directory, 'state'))).toEqual([])
  })

  it('deletes the files an unfinished download created, and pieces written as it is called', async () => {
    const torrent = multiFileTorrent()
    const directory = await tempDir()
    const store = await createFileStore(torrent.meta, { directory, workers: 0 })
    stores.push(store)
    await store.writePiece(2, torrent.piece(2))
    const write = store.writePiece(0, torrent.piece(0))
    await store.destroy()
    await write
    expect(await list(directory)).toEqual([])
  })

  it('does not follow a subfolder symlinked outside, nor a symlinked file', async () => {
    const torrent = multiFileTorrent()
    const [directory, outside] = [await tempDir(), await tempDir()]
    const store = await complete(torrent, { directory })
    // Swapped in after the download: dir/ now leads outside, d.bin is a link to a file out there.
    await rename(join(directory, 'multi', 'dir'), join(outside, 'dir'))
    await symlink(join(outside, 'dir'), join(directory, 'multi', 'dir'))
    await mkdir(join(outside, 'dir', 'nested'))
    await rm(join(directory, 'multi', 'd.bin'))
    await writeFile(join(outside, 'd.bin'), 'outside')
    await symlink(join(outside, 'd.bin'), join(directory, 'multi', 'd.bin'))
    await store.destroy()
    expect(await list(join(directory, 'multi'))).toEqual(['dir'])
    expect(await list(join(outside, 'dir'))).toEqual(['c.bin', 'nested'])
    expect((await readFile(join(outside, 'dir', 'c.bin'))).length).toBe(30000)
    expect(await readFile(join(outside, 'd.bin'), 'utf8')).toBe('outside')
  })

  it('leaves a contentPath folder in place, and the folder holding a contentPath file', async () => {
    const multi = multiFileTorrent()
    const folder = join(await tempDir(), 'chosen')
    await (await complete(multi, { contentPath: folder, resumeFile: null })).destroy()
    expect(await list(folder)).toEqual([])
    const single = singleFileTorrent()
    const parent = await tempDir()
    await (await complete(single, { contentPath: join(parent, 'renamed.bin') })).destroy()
    expect(await list(parent)).toEqual([])
  })

  it('leaves padding file paths alone: the store never created them', async () => {
    const torrent = paddedTorrent()
    const directory = await tempDir()
    const store = await complete(torrent, { directory })
    await mkdir(join(directory, 'padded', '.pad'))
    await writeFile(join(directory, 'padded', '.pad', '6384'), 'not a padding file of ours')
    await store.destroy()
    expect(await list(join(directory, 'padded', '.pad'))).toEqual(['6384'])
  })
})

// Real disk failures on small tmpfs mounts: a full disk (ENOSPC) and a read-only file system (EROFS).
// Root ignores permission bits, so EACCES cannot be provoked reliably here; EROFS takes its place.
// Mounting needs root (CAP_SYS_ADMIN): without it the suite is skipped loudly (and fails in CI).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmdirSync } from 'node:fs'
import { mkdtemp, open as openFile, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createFileStore, type FileStoreInit, type PieceStore, StorageError } from '../src/index.js'
import { buildTorrent, sameBytes, type TestTorrent } from './helpers/torrent.js'

function run(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8' })
  return result.status === 0 ? undefined : `${command} ${args.join(' ')}: ${result.stderr || result.error}`
}

/** `undefined` when tmpfs can be mounted here, else why not. */
function mountProblem(): string | undefined {
  const probe = mkdtempSync(join(tmpdir(), 'bt-mount-probe-'))
  try {
    const problem = run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe])
    if (problem === undefined) run('umount', [probe])
    return problem
  } finally {
    rmdirSync(probe)
  }
}

function describeWithTmpfs(name: string, body: () => void): void {
  const problem = mountProblem()
  if (problem === undefined) {
    describe(name, body)
  } else if (process.env.CI) {
    describe(name, () => {
      it('can mount tmpfs', () => {
        throw new Error(`${name}: cannot mount tmpfs (${problem})`)
      })
    })
  } else {
    console.warn(`[skipped] ${name}: cannot mount tmpfs (${problem})`)
    describe.skip(`${name} [skipped: cannot mount tmpfs]`, body)
  }
}

const mounts: string[] = []
const temporary: string[] = []
const stores: PieceStore[] = []

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bt-piece-store-'))
  temporary.push(dir)
  return dir
}

async function mountTmpfs(size: string): Promise<string> {
  const dir = await tempDir()
  const problem = run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  if (problem !== undefined) throw new Error(problem)
  mounts.push(dir)
  return dir
}

async function open(torrent: TestTorrent, init: FileStoreInit): Promise<PieceStore> {
  const store = await createFileStore(torrent.meta, { workers: 1, ...init })
  stores.push(store)
  return store
}

afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((store) => store.close()))
})

afterAll(async () => {
  for (const dir of mounts.splice(0)) if (run('umount', [dir]) !== undefined) run('umount', ['-l', dir])
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })))
})

describeWithTmpfs('file store: disk errors on tmpfs', () => {
  const torrent = buildTorrent({ name: 'big.bin', pieceLength: 16384, files: 1024 * 1024 })

  it('fails the write that hits ENOSPC and keeps every piece written before it', async () => {
    const disk = await mountTmpfs('512k')
    const resumeFile = join(await tempDir(), 'resume')
    const store = await open(torrent, { directory: disk, resumeFile })
    let failure: unknown
    let index = 0
    for (; index < torrent.meta.pieceCount; index++) {
      try {
        await store.writePiece(index, torrent.piece(index))
      } catch (error) {
        failure = error
        break
      }
    }
    expect(failure).toBeInstanceOf(StorageError)
    expect(failure).toMatchObject({ code: 'ENOSPC', pieceIndex: index, path: join(disk, 'big.bin') })
    expect(index).toBeGreaterThan(20)
    expect(index).toBeLessThan(33)
    expect(store.have.count).toBe(index)
    expect(store.have.has(index)).toBe(false)
    for (let earlier = 0; earlier < index; earlier++) {
      expect(sameBytes(await store.readPiece(earlier), torrent.piece(earlier))).toBe(true)
    }
    await store.close()
    const reopened = await open(torrent, { directory: disk, resumeFile })
    expect(reopened.have.count).toBe(index)
    expect([...(await reopened.recheck()).indices()]).toEqual([...reopened.have.indices()])
  })

  it('keeps the previous resume file when a checkpoint hits ENOSPC', async () => {
    const disk = await mountTmpfs('256k')
    const resumeFile = join(disk, 'resume')
    const errors: StorageError[] = []
    const store = await open(torrent, { directory: disk, resumeFile, onError: (error) => errors.push(error) })
    await store.writePiece(0, torrent.piece(0))
    await store.writePiece(1, torrent.piece(1))
    await store.flush()
    const saved = await readFile(resumeFile)
    // Fill the disk, then damage piece 0 in place (its pages are already allocated).
    await writeFile(join(disk, 'filler'), new Uint8Array(512 * 1024)).catch(() => undefined)
    const handle = await openFile(join(disk, 'big.bin'), 'r+')
    await handle.write(Uint8Array.of(0xff ^ torrent.piece(0)[3]!), 0, 1, 3)
    await handle.close()
    expect([...(await store.recheck()).indices()]).toEqual([1])
    await expect(store.flush()).rejects.toMatchObject({
      name: 'StorageError',
      code: 'ENOSPC',
      path: resumeFile,
    })
    expect(await readFile(resumeFile)).toEqual(saved)
    expect((await readdir(disk)).sort()).toEqual(['big.bin', 'filler', 'resume'])
    await rm(join(disk, 'filler'))
    await store.close()
    expect(await readFile(resumeFile)).not.toEqual(saved)
  })

  it('reads but refuses writes on a read-only file system (EROFS)', async () => {
    const disk = await mountTmpfs('2m')
    const resumeFile = join(await tempDir(), 'resume')
    const writer = await open(torrent, { directory: disk, resumeFile })
    for (const index of [0, 1, 2, 10]) await writer.writePiece(index, torrent.piece(index))
    await writer.close()
    expect(run('mount', ['-o', 'remount,ro', disk])).toBeUndefined()
    const store = await open(torrent, { directory: disk, resumeFile })
    expect([...store.have.indices()]).toEqual([0, 1, 2, 10])
    expect(sameBytes(await store.readPiece(10), torrent.piece(10))).toBe(true)
    await expect(store.writePiece(11, torrent.piece(11))).rejects.toMatchObject({
      name: 'StorageError',
      code: 'EROFS',
      pieceIndex: 11,
    })
    expect(store.have.has(11)).toBe(false)
    expect([...(await store.recheck()).indices()]).toEqual([0, 1, 2, 10])
    const onDisk = await open(torrent, { directory: disk, resumeFile: join(disk, 'resume') })
    await onDisk.verifyPiece(0)
    await expect(onDisk.flush()).rejects.toMatchObject({ code: 'EROFS' })
  })
})

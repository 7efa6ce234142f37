// kill -9 at random moments while pieces are written and checkpointed: afterwards every piece the resume
// file claims must verify on disk, and a reopened store must trust nothing else.
import { createHash } from 'node:crypto'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Bitfield } from '@bt/bitfield'
import type { Metainfo } from '@bt/metainfo'
import { startProcess } from '@bt/test-helpers'
import { afterAll, describe, expect, it } from 'vitest'
import { createFileStore } from '../src/index.js'
import { crashTorrent } from './helpers/crash-torrent.js'
import { sameBytes } from './helpers/torrent.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const temporary: string[] = []
afterAll(async () => {
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })))
})

/** Reads piece `index` with plain fs calls, independently of the store; `undefined` if a file is short. */
async function pieceOnDisk(
  meta: Metainfo,
  directory: string,
  index: number,
): Promise<Uint8Array | undefined> {
  const data = new Uint8Array(meta.layout.pieceLengthAt(index))
  let at = 0
  for (const span of meta.layout.spansForPiece(index)) {
    const handle = await open(join(directory, meta.name, ...meta.files[span.fileIndex]!.path)).catch(
      () => undefined,
    )
    if (handle === undefined) return undefined
    try {
      const { bytesRead } = await handle.read(data, at, span.length, span.fileOffset)
      if (bytesRead !== span.length) return undefined
    } finally {
      await handle.close()
    }
    at += span.length
  }
  return data
}

async function verifiesOnDisk(meta: Metainfo, directory: string, index: number): Promise<boolean> {
  const data = await pieceOnDisk(meta, directory, index)
  return data !== undefined && createHash('sha1').update(data).digest().equals(meta.pieceHash(index))
}

async function runChild(directory: string, resumeFile: string, round: number, killAfter: number | undefined) {
  const child = startProcess(
    process.execPath,
    [
      '--conditions=@bt/source',
      '--import',
      'tsx',
      'test/crash-child.ts',
      directory,
      resumeFile,
      String(round),
    ],
    { cwd: packageDir },
  )
  const deadline = Date.now() + 30_000
  while (!child.output().includes('ready')) {
    if (Date.now() > deadline || child.child.exitCode !== null) {
      await child.stop()
      throw new Error(`crash child did not start:\n${child.output()}`)
    }
    await sleep(5)
  }
  if (killAfter !== undefined) {
    await sleep(killAfter)
    try {
      process.kill(-(child.child.pid as number), 'SIGKILL')
    } catch {}
  }
  const code = await child.exited
  return { code, output: child.output() }
}

describe('file store: crash safety', () => {
  it('never claims an unverified piece after kill -9, and resumes to completion', async () => {
    const torrent = crashTorrent()
    const { meta } = torrent
    const directory = await mkdtemp(join(tmpdir(), 'bt-piece-store-crash-'))
    temporary.push(directory)
    const resumeFile = join(directory, 'state.bt-resume')
    let killedWithData = 0
    for (let round = 0; round < 8; round++) {
      const { output } = await runChild(directory, resumeFile, round, 10 + ((round * 37) % 120))
      if (output.includes('done')) break
      const raw = await readFile(resumeFile).catch(() => undefined)
      if (raw === undefined) continue
      killedWithData++
      const claimed = Bitfield.fromBytes(
        Buffer.from(JSON.parse(raw.toString()).have, 'base64'),
        meta.pieceCount,
      )
      for (const index of claimed.indices()) {
        expect(await verifiesOnDisk(meta, directory, index), `round ${round}: piece ${index}`).toBe(true)
      }
      const store = await createFileStore(meta, { directory, resumeFile, workers: 1 })
      for (const index of store.have.indices())
        expect(await verifiesOnDisk(meta, directory, index)).toBe(true)
      // Nothing that was claimed is lost on reopen.
      for (const index of claimed.indices()) expect(store.have.has(index)).toBe(true)
      await store.close()
    }
    expect(killedWithData).toBeGreaterThan(2)
    const final = await runChild(directory, resumeFile, 99, undefined)
    expect(final.output).toContain('done')
    const store = await createFileStore(meta, { directory, resumeFile, workers: 1 })
    expect(store.have.complete).toBe(true)
    expect([...(await store.recheck()).indices()]).toHaveLength(meta.pieceCount)
    await store.close()
    for (const [index, file] of meta.files.entries()) {
      expect(sameBytes(await readFile(join(directory, meta.name, ...file.path)), torrent.file(index))).toBe(
        true,
      )
    }
  }, 120_000)
})

// Resume data: which pieces are complete, plus each content file's size and modification time when
// that was recorded, so a later open can tell which files changed behind the store's back. JSON, small
// (a bitfield in base64 and two numbers per file), written atomically.
import { constants } from 'node:fs'
import { mkdir, open, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Bitfield } from '@bt/bitfield'
import type { Metainfo } from '@bt/metainfo'
import type { FileState } from './content-files.js'
import { errorCode } from './content-files.js'
import { writeAll } from './positional-io.js'

export interface ResumeData {
  have: Bitfield
  /** Per file of the torrent (same order): its state when `have` was recorded, `null` when unknown. */
  files: (FileState | null)[]
}

const FORMAT = 'bt-resume'
const VERSION = 1

export function encodeResume(meta: Metainfo, data: ResumeData): Uint8Array {
  const json = JSON.stringify({
    format: FORMAT,
    version: VERSION,
    infoHash: meta.infoHash,
    pieceLength: meta.pieceLength,
    pieceCount: meta.pieceCount,
    have: Buffer.from(data.have.bytes).toString('base64'),
    files: data.files.map((file) => (file === null ? null : [file.size, file.mtimeNs.toString()])),
  })
  return Buffer.from(`${json}\n`)
}

/** Reads resume data for `meta`; throws an `Error` saying what is wrong (it is untrusted input). */
export function decodeResume(meta: Metainfo, bytes: Uint8Array): ResumeData {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    throw new Error('not JSON')
  }
  if (!isRecord(value) || value.format !== FORMAT) throw new Error('not bt resume data')
  if (value.version !== VERSION) throw new Error(`unsupported version ${String(value.version)}`)
  if (value.infoHash !== meta.infoHash) throw new Error(`belongs to torrent ${String(value.infoHash)}`)
  if (value.pieceLength !== meta.pieceLength || value.pieceCount !== meta.pieceCount) {
    throw new Error('piece layout does not match the torrent')
  }
  if (typeof value.have !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value.have))
    throw new Error('bad `have`')
  const have = Bitfield.fromBytes(Buffer.from(value.have, 'base64'), meta.pieceCount)
  const files = value.files
  if (!Array.isArray(files) || files.length !== meta.files.length) throw new Error('bad `files`')
  return {
    have,
    files: files.map((entry: unknown, index) => {
      if (entry === null) return null
      if (
        Array.isArray(entry) &&
        entry.length === 2 &&
        Number.isSafeInteger(entry[0]) &&
        entry[0] >= 0 &&
        typeof entry[1] === 'string' &&
        /^-?\d{1,30}$/.test(entry[1])
      ) {
        return { size: entry[0] as number, mtimeNs: BigInt(entry[1]) }
      }
      throw new Error(`bad \`files[${index}]\``)
    }),
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Replaces `path` with `data` so that a crash at any moment leaves either the old or the new content:
 * write a temporary file, fsync it, rename it over `path`, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const temporary = `${path}.tmp`
  await mkdir(dirname(path), { recursive: true })
  const handle = await open(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0),
    0o644,
  )
  try {
    try {
      await writeAll(handle, data, 0)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => undefined)
    throw error
  }
  await syncDirectory(dirname(path))
}

/** Makes a rename durable. Some platforms cannot open or fsync a directory; nothing to do there. */
async function syncDirectory(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, constants.O_RDONLY)
  } catch {
    return
  }
  try {
    await handle.sync()
  } catch (error) {
    const code = errorCode(error)
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw error
  } finally {
    await handle.close()
  }
}

// Where each content file lives and how to open it without ever leaving the download directory. Paths
// from the torrent are already sanitised (@bt/metainfo), but the directory may hold symlinks: every
// intermediate directory is checked with lstat (a symlink must resolve inside the root) and the file
// itself is opened with O_NOFOLLOW, so a planted symlink can neither redirect writes nor leak reads.
import { constants } from 'node:fs'
import { type FileHandle, lstat, mkdir, open, realpath, rmdir, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import type { Metainfo } from '@bt/metainfo'
import { StorageError } from './errors.js'

/** Where the torrent's content goes: exactly one of the two. */
export interface ContentLocation {
  /** The directory receiving the content under the torrent's name: `<directory>/<name>` (file or folder). */
  directory?: string
  /**
   * The content itself: the file of a single-file torrent (any name), or the folder holding a multi-file
   * torrent's files (instead of `<directory>/<name>`).
   */
  contentPath?: string
  /**
   * With `directory`: each file's path below it (path components), instead of `<name>/<file path>` — a
   * torrent whose files or folder were renamed. Every component a plain name (no `/`, `.` or `..`); a
   * multi-file torrent's paths all start with one folder, a single file's path is one name.
   */
  filePaths?: readonly (readonly string[])[]
}

/** A path component that names an entry of its directory and nothing else. */
export function isPlainName(component: string): boolean {
  return component !== '' && component !== '.' && component !== '..' && !/[/\\\0]/.test(component)
}

/** Size and modification time of a file as the resume data records them. */
export interface FileState {
  size: number
  mtimeNs: bigint
}

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0
// A FIFO planted where a file belongs would block a read-only open forever; with O_NONBLOCK the open
// returns and the fstat check below refuses it. Regular files ignore the flag.
const O_NONBLOCK = constants.O_NONBLOCK ?? 0
const READ_FLAGS = constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK
const WRITE_FLAGS = constants.O_RDWR | constants.O_CREAT | O_NOFOLLOW | O_NONBLOCK

/** Error codes meaning "this file's data is not there" rather than "the disk is failing". */
const ABSENT_CODES = new Set(['ENOENT', 'ENOTDIR', 'UNSAFE_PATH', 'NOT_A_FILE', 'EISDIR'])

export function isAbsent(error: unknown): boolean {
  return error instanceof StorageError && ABSENT_CODES.has(error.code)
}

export class ContentFiles {
  /** The directory nothing may be written outside of (as given; its real path is resolved lazily). */
  readonly root: string
  /** The top-level content entry: the single file, or the multi-file folder. */
  readonly contentRoot: string
  private readonly relative: string[][]
  private realRoot: string | undefined

  constructor(meta: Metainfo, location: ContentLocation) {
    const { directory, contentPath } = location
    if ((directory === undefined) === (contentPath === undefined)) {
      throw new TypeError('piece-store: give exactly one of `directory` and `contentPath`')
    }
    if (location.filePaths !== undefined) {
      if (directory === undefined) throw new TypeError('piece-store: `filePaths` needs `directory`')
      this.root = resolve(directory)
      this.relative = checkedFilePaths(meta, location.filePaths)
      this.contentRoot = join(this.root, this.relative[0]![0]!)
    } else if (directory !== undefined) {
      this.root = resolve(directory)
      this.relative = meta.files.map((file) => (meta.multiFile ? [meta.name, ...file.path] : file.path))
      this.contentRoot = join(this.root, meta.name)
    } else if (meta.multiFile) {
      this.root = resolve(contentPath as string)
      this.relative = meta.files.map((file) => file.path)
      this.contentRoot = this.root
    } else {
      const path = resolve(contentPath as string)
      this.root = dirname(path)
      this.relative = meta.files.map(() => [basename(path)])
      this.contentRoot = path
    }
  }

  /** The absolute path of file `fileIndex` (lexically; symlinks inside the root are resolved on open). */
  pathOf(fileIndex: number): string {
    return join(this.root, ...this.relative[fileIndex]!)
  }

  /**
   * Opens file `fileIndex` read-only, or read-write creating it (and its directories) if needed. Never
   * truncates, never appends. Throws `StorageError` (`UNSAFE_PATH`, `NOT_A_FILE`, or the errno code).
   */
  async open(fileIndex: number, writable: boolean): Promise<FileHandle> {
    const path = this.pathOf(fileIndex)
    try {
      const parent = await this.resolveParent(fileIndex, writable)
      const handle = await open(join(parent, basename(path)), writable ? WRITE_FLAGS : READ_FLAGS, 0o644)
      try {
        const info = await handle.stat()
        if (!info.isFile()) throw new StorageError('NOT_A_FILE', 'not a regular file', { path })
        return handle
      } catch (error) {
        await handle.close().catch(() => undefined)
        throw error
      }
    } catch (error) {
      throw asStorageError(error, path)
    }
  }

  /** Size and mtime of file `fileIndex`, or `null` if it is absent (or not something the store would open). */
  async stat(fileIndex: number): Promise<FileState | null> {
    const path = this.pathOf(fileIndex)
    try {
      const parent = await this.resolveParent(fileIndex, false)
      const info = await lstat(join(parent, basename(path)), { bigint: true })
      if (!info.isFile()) return null
      return { size: Number(info.size), mtimeNs: info.mtimeNs }
    } catch (error) {
      const wrapped = asStorageError(error, path)
      if (isAbsent(wrapped)) return null
      throw wrapped
    }
  }

  /** Whether anything exists at the content's top-level path (a quick "was anything downloaded?"). */
  async contentExists(): Promise<boolean> {
    try {
      await lstat(this.contentRoot)
      return true
    } catch {
      return false
    }
  }

  /**
   * Deletes file `fileIndex` if it is there. Whatever sits in its place is unlinked itself (a symlink is
   * never followed) unless it is a directory; a file behind a directory symlink leading outside the root
   * is left alone, like an absent one.
   */
  async remove(fileIndex: number): Promise<void> {
    const path = this.pathOf(fileIndex)
    try {
      const parent = await this.resolveParent(fileIndex, false)
      const target = join(parent, basename(path))
      if ((await lstat(target)).isDirectory()) return
      await unlink(target)
    } catch (error) {
      const wrapped = asStorageError(error, path)
      if (!isAbsent(wrapped)) throw wrapped
    }
  }

  /**
   * Removes the directories below the root that hold files `fileIndices`, deepest first, where they are
   * empty. Never the root itself, never a directory reached through a symlink, never one holding anything.
   */
  async removeEmptyDirectories(fileIndices: readonly number[]): Promise<void> {
    const directories = new Map<string, string[]>()
    for (const fileIndex of fileIndices) {
      const components = this.relative[fileIndex]!
      for (let depth = 1; depth < components.length; depth++) {
        const parts = components.slice(0, depth)
        directories.set(join(...parts), parts)
      }
    }
    if (directories.size === 0) return
    let root: string
    try {
      root = await this.resolveRoot(false)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return
      throw asStorageError(error, this.root)
    }
    for (const parts of [...directories.values()].sort((a, b) => b.length - a.length)) {
      const path = join(root, ...parts)
      try {
        if (await isRealDirectory(root, parts)) await rmdir(path)
      } catch (error) {
        if (!GONE_OR_IN_USE.has(errorCode(error) ?? '')) throw asStorageError(error, path)
      }
    }
  }

  /** The real path of the root directory, created first when `create`. */
  private async resolveRoot(create: boolean): Promise<string> {
    if (this.realRoot !== undefined) return this.realRoot
    if (create) await mkdir(this.root, { recursive: true })
    this.realRoot = await realpath(this.root)
    return this.realRoot
  }

  /** Walks the directories between the root and file `fileIndex`, creating them when `create`. */
  private async resolveParent(fileIndex: number, create: boolean): Promise<string> {
    const root = await this.resolveRoot(create)
    const components = this.relative[fileIndex]!
    let directory = root
    for (let at = 0; at < components.length - 1; at++) {
      const path = join(directory, components[at]!)
      let info = await lstat(path).catch((error: unknown) => {
        if (create && errorCode(error) === 'ENOENT') return undefined
        throw error
      })
      if (info === undefined) {
        await mkdir(path).catch((error: unknown) => {
          if (errorCode(error) !== 'EEXIST') throw error
        })
        info = await lstat(path)
      }
      if (info.isSymbolicLink()) {
        const target = await realpath(path)
        if (!isInside(root, target)) {
          throw new StorageError('UNSAFE_PATH', `symbolic link leads outside ${root} (to ${target})`, {
            path,
          })
        }
        if (!(await stat(target)).isDirectory()) {
          throw new StorageError('ENOTDIR', 'not a directory', { path })
        }
        directory = target
      } else if (info.isDirectory()) {
        directory = path
      } else {
        throw new StorageError('ENOTDIR', 'not a directory', { path })
      }
    }
    return directory
  }
}

/** `rmdir` outcomes that leave nothing to do: the directory is gone, or holds something else. */
function checkedFilePaths(meta: Metainfo, paths: readonly (readonly string[])[]): string[][] {
  const fail = (why: string): never => {
    throw new TypeError(`piece-store: filePaths ${why}`)
  }
  if (paths.length !== meta.files.length) fail(`has ${paths.length} paths for ${meta.files.length} files`)
  const top = paths[0]?.[0]
  const seen = new Set<string>()
  return paths.map((path, index) => {
    if (!path.every((component) => typeof component === 'string' && isPlainName(component)))
      fail(`[${index}] is not a path of plain names`)
    if (meta.multiFile ? path.length < 2 || path[0] !== top : path.length !== 1)
      fail(`[${index}] must be ${meta.multiFile ? 'below the torrent’s one folder' : 'a single name'}`)
    const key = path.join('/')
    if (seen.has(key)) fail(`[${index}] names a file twice`)
    seen.add(key)
    return [...path]
  })
}

const GONE_OR_IN_USE = new Set(['ENOENT', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST'])

/** Whether every step from `root` down to `parts` is a directory, none of them a symlink. */
async function isRealDirectory(root: string, parts: readonly string[]): Promise<boolean> {
  let path = root
  for (const part of parts) {
    path = join(path, part)
    if (!(await lstat(path)).isDirectory()) return false
  }
  return true
}

function isInside(root: string, path: string): boolean {
  if (path === root) return true
  return path.startsWith(root.endsWith(sep) ? root : root + sep)
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code
  }
  return undefined
}

/** Node errors become `StorageError` with their errno code; `ELOOP` from O_NOFOLLOW means a symlinked file. */
export function asStorageError(error: unknown, path: string, pieceIndex?: number): StorageError {
  if (error instanceof StorageError) {
    if (pieceIndex === undefined || error.pieceIndex !== undefined) return error
    return new StorageError(
      error.code,
      error.detail,
      { path: error.path ?? path, pieceIndex },
      { cause: error.cause },
    )
  }
  const code = errorCode(error)
  if (code === 'ELOOP') {
    return new StorageError('UNSAFE_PATH', 'is a symbolic link', { path, pieceIndex }, { cause: error })
  }
  const message = error instanceof Error ? error.message : String(error)
  const detail =
    code !== undefined && message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message
  return new StorageError(code ?? 'EIO', detail, { path, pieceIndex }, { cause: error })
}

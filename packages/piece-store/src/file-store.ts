// Pieces on disk: each piece is cut into spans of its files (metainfo's layout) and moved with
// positional I/O through a small pool of open handles. Completion lives in memory and is checkpointed to
// a resume file in batches (time or piece count), never per piece; a checkpoint first fsyncs the files
// written since the last one, so the resume file never claims data the disk does not hold.
import { readFile, stat, unlink } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { Bitfield } from '@bt/bitfield'
import type { FileSpan, Metainfo } from '@bt/metainfo'
import { checkPieces } from './check-pieces.js'
import {
  asStorageError,
  ContentFiles,
  type ContentLocation,
  errorCode,
  type FileState,
  isAbsent,
} from './content-files.js'
import { StorageError } from './errors.js'
import { HandlePool } from './handle-pool.js'
import { readAll, writeAll } from './positional-io.js'
import { decodeResume, encodeResume, type ResumeData, writeFileAtomic } from './resume-data.js'
import { type CheckAllOptions, StoreBase } from './store-base.js'
import type { AbortOptions, PieceStore, RecheckProgress } from './types.js'

export interface FileStoreInit extends ContentLocation {
  /**
   * Where completion is persisted. Default: `.<infohash>.bt-resume` next to the content (in `directory`,
   * or beside `contentPath`). `null`: nothing is persisted and every open starts from the disk.
   */
  resumeFile?: string | null
  /**
   * What opening verifies. `'auto'` (default): trust the resume data for files whose size and mtime are
   * unchanged, re-hash the complete pieces of files that changed, and without usable resume data re-hash
   * everything if any content exists. `'always'`: ignore resume data and re-hash everything. `'none'`:
   * hash nothing while opening — only pieces of unchanged files count, the rest waits for `recheck()`.
   */
  check?: 'auto' | 'always' | 'none'
  /** Open file handles kept (default 16); more are opened briefly when more files are in use at once. */
  maxOpenFiles?: number
  /** Hashing threads for rechecks (default: the number of CPUs if more than one, else 0 = main thread). */
  workers?: number
  /** Checkpoint completion at most this often, in ms (default 5000). */
  flushInterval?: number
  /** …or as soon as this many pieces changed state (default 512). */
  flushPieces?: number
  /** See `PieceStore.highWaterMark`; default 8 MiB (two pieces if larger). */
  highWaterMark?: number
  /** Errors nobody awaits: a failed background checkpoint (retried later), unusable resume data. */
  onError?: (error: StorageError) => void
}

export interface OpenOptions extends AbortOptions {
  /** Progress of the hashing done while opening (changed files, or a full check). */
  onProgress?: (progress: RecheckProgress) => void
}

export interface FileStore extends PieceStore {
  /** The content on disk: the single file, or the folder of a multi-file torrent. */
  readonly contentPath: string
  /** The resume file in use, if any. */
  readonly resumeFile: string | undefined
}

/**
 * Opens (creating nothing yet) the on-disk store for `meta`: loads resume data and verifies what it
 * cannot trust (see `FileStoreInit.check`). Files and directories are created when a piece first needs
 * them; `directory` gets the content as `<directory>/<name>`, `contentPath` names it exactly.
 */
export async function createFileStore(
  meta: Metainfo,
  init: FileStoreInit,
  options: OpenOptions = {},
): Promise<FileStore> {
  options.signal?.throwIfAborted()
  const store = new DiskStore(meta, init)
  try {
    await store.open(options)
  } catch (error) {
    await store.discard()
    throw error
  }
  return store
}

const DEFAULT_MAX_OPEN_FILES = 16
const DEFAULT_FLUSH_INTERVAL = 5000
const DEFAULT_FLUSH_PIECES = 512
/** Parallel stat/fsync calls during a checkpoint or an open. */
const FILE_CONCURRENCY = 8

class DiskStore extends StoreBase implements FileStore {
  readonly contentPath: string
  readonly resumeFile: string | undefined
  private readonly files: ContentFiles
  private readonly handles: HandlePool
  private readonly check: 'auto' | 'always' | 'none'
  private readonly workers: number
  private readonly flushInterval: number
  private readonly flushPieces: number
  private readonly onError: ((error: StorageError) => void) | undefined
  /** Zero-length files, created when the piece at their offset completes. */
  private readonly emptyFilesAt = new Map<number, number[]>()
  /** Each file's state as the next resume data should record it; `undefined`: stat it first. */
  private readonly fileStates: (FileState | null | undefined)[]
  /** Files written since the last checkpoint: fsync before recording pieces that live in them. */
  private dirtyFiles = new Set<number>()
  private changedPieces = 0
  private timer: NodeJS.Timeout | undefined
  private checkpointRunning: Promise<void> | undefined
  private checkpointQueued: Promise<void> | undefined
  private persistOnClose = true

  constructor(meta: Metainfo, init: FileStoreInit) {
    super(meta, init.highWaterMark)
    this.files = new ContentFiles(meta, init)
    this.contentPath = this.files.contentRoot
    this.check = init.check ?? 'auto'
    if (this.check !== 'auto' && this.check !== 'always' && this.check !== 'none') {
      throw new TypeError(`piece-store: check must be 'auto', 'always' or 'none', got ${String(this.check)}`)
    }
    const maxOpenFiles = positiveInteger('maxOpenFiles', init.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES)
    // One worker is slower than hashing on the main thread (messaging, start-up): only use threads with
    // more than one core to spread them over.
    const cores = availableParallelism()
    this.workers = init.workers ?? (cores > 1 ? cores : 0)
    if (!Number.isInteger(this.workers) || this.workers < 0) {
      throw new RangeError(`piece-store: workers must be a non-negative integer, got ${this.workers}`)
    }
    this.flushInterval = positiveInteger('flushInterval', init.flushInterval ?? DEFAULT_FLUSH_INTERVAL)
    this.flushPieces = positiveInteger('flushPieces', init.flushPieces ?? DEFAULT_FLUSH_PIECES)
    this.onError = init.onError
    this.resumeFile =
      init.resumeFile === null
        ? undefined
        : resolve(init.resumeFile ?? join(dirname(this.contentPath), `.${meta.infoHash}.bt-resume`))
    if (this.resumeFile !== undefined) {
      const reserved = new Set([this.resumeFile, `${this.resumeFile}.tmp`])
      meta.files.forEach((file, index) => {
        if (!file.padding && reserved.has(this.files.pathOf(index))) {
          throw new TypeError(`piece-store: resume file ${this.resumeFile} is also content file ${index}`)
        }
      })
    }
    this.fileStates = new Array(meta.files.length).fill(undefined)
    meta.files.forEach((file, index) => {
      if (file.padding || file.length > 0) return
      const piece = Math.min(Math.floor(file.offset / meta.pieceLength), meta.pieceCount - 1)
      const list = this.emptyFilesAt.get(piece)
      if (list === undefined) this.emptyFilesAt.set(piece, [index])
      else list.push(index)
    })
    this.handles = new HandlePool(
      maxOpenFiles,
      (fileIndex, writable) => this.files.open(fileIndex, writable),
      (error, fileIndex) => this.report(asStorageError(error, this.files.pathOf(fileIndex))),
    )
  }

  async open(options: OpenOptions): Promise<void> {
    const resume = this.check === 'always' ? undefined : await this.loadResume()
    let pieces: number[] = []
    if (resume !== undefined) {
      pieces = await this.applyResume(resume)
    } else if (this.check === 'always' || (this.check === 'auto' && (await this.files.contentExists()))) {
      pieces = Array.from({ length: this.meta.pieceCount }, (_, index) => index)
    }
    if (pieces.length > 0 && this.check !== 'none') {
      const valid = await this.checkPieceList(pieces, options.signal, options.onProgress, this.workers)
      for (const index of valid.indices()) this.setComplete(index, true)
    }
    await this.createEmptyFilesOfCompletePieces()
  }

  /**
   * A piece found complete on open (resume data or a hash check after a crash) never went through
   * storePiece, so the zero-length files at its offset may not exist yet.
   */
  private async createEmptyFilesOfCompletePieces(): Promise<void> {
    const creations: Promise<void>[] = []
    for (const [index, fileIndices] of this.emptyFilesAt) {
      if (!this.have.has(index)) continue
      for (const fileIndex of fileIndices) {
        if (this.isFileWanted(fileIndex)) creations.push(this.createEmptyFile(index, fileIndex))
      }
    }
    await settleAll(creations)
  }

  /** Closes without persisting: an open that failed must not overwrite good resume data. */
  async discard(): Promise<void> {
    this.persistOnClose = false
    await this.close()
  }

  override verifyPiece(index: number, options?: AbortOptions): Promise<boolean> {
    if (Number.isInteger(index) && index >= 0 && index < this.meta.pieceCount && !this.closed) {
      this.handles.closeIdle(this.meta.layout.spansForPiece(index).map((span) => span.fileIndex))
    }
    return super.verifyPiece(index, options)
  }

  protected async storePiece(
    index: number,
    data: Uint8Array,
    wanted: (fileIndex: number) => boolean,
  ): Promise<void> {
    const writes: Promise<void>[] = []
    let at = 0
    for (const span of this.meta.layout.spansForPiece(index)) {
      // Padding is never written, and a skipped file is never created.
      if (!this.meta.files[span.fileIndex]!.padding && wanted(span.fileIndex)) {
        writes.push(this.writeSpan(index, span, data.subarray(at, at + span.length)))
      }
      at += span.length
    }
    await settleAll(writes)
    const empty = this.emptyFilesAt.get(index)?.filter(wanted)
    if (empty !== undefined) await settleAll(empty.map((fileIndex) => this.createEmptyFile(index, fileIndex)))
  }

  protected async readRangeInto(index: number, begin: number, target: Uint8Array): Promise<void> {
    const reads: Promise<void>[] = []
    let at = 0
    for (const span of this.meta.layout.spansForRange(index * this.meta.pieceLength + begin, target.length)) {
      const part = target.subarray(at, at + span.length)
      if (this.meta.files[span.fileIndex]!.padding) part.fill(0)
      else reads.push(this.readSpan(index, span, part))
      at += span.length
    }
    await settleAll(reads)
  }

  protected async readStored(index: number, target: Uint8Array): Promise<boolean> {
    let at = 0
    for (const span of this.meta.layout.spansForPiece(index)) {
      const part = target.subarray(at, at + span.length)
      at += span.length
      if (this.meta.files[span.fileIndex]!.padding) {
        part.fill(0)
        continue
      }
      try {
        await this.readSpan(index, span, part)
      } catch (error) {
        if (isAbsent(error) || (error instanceof StorageError && error.code === 'SHORT_FILE')) return false
        throw error
      }
    }
    return true
  }

  protected async checkAll(options: CheckAllOptions): Promise<Bitfield> {
    this.handles.closeIdle()
    const pieces = Array.from({ length: this.meta.pieceCount }, (_, index) => index)
    const valid = await this.checkPieceList(
      pieces,
      options.signal,
      options.onProgress,
      options.workers ?? this.workers,
    )
    // Whatever the files looked like before, the next checkpoint records them as they are now.
    this.fileStates.fill(undefined)
    return valid
  }

  protected persist(): Promise<void> {
    return this.checkpoint()
  }

  protected override completionChanged(index: number, complete: boolean): void {
    this.changedPieces++
    if (complete) {
      for (const span of this.meta.layout.spansForPiece(index)) {
        if (!this.dirtyFiles.has(span.fileIndex)) this.fileStates[span.fileIndex] = undefined
      }
    }
    this.scheduleCheckpoint()
  }

  protected async release(): Promise<void> {
    this.clearTimer()
    try {
      if (this.persistOnClose) await this.checkpoint()
      else await this.checkpointRunning?.catch(() => undefined)
    } finally {
      await this.handles.closeAll()
    }
  }

  protected override discardOnClose(): void {
    this.persistOnClose = false
  }

  /** Content files (never through a symlink leading out), then their emptied folders, then resume data. */
  protected async erase(): Promise<void> {
    const files: number[] = []
    this.meta.files.forEach((file, index) => {
      if (!file.padding) files.push(index)
    })
    await forEachLimit(files, FILE_CONCURRENCY, (fileIndex) => this.files.remove(fileIndex))
    await this.files.removeEmptyDirectories(files)
    if (this.resumeFile === undefined) return
    for (const path of [this.resumeFile, `${this.resumeFile}.tmp`]) {
      await unlink(path).catch((error: unknown) => {
        if (errorCode(error) !== 'ENOENT') throw asStorageError(error, path)
      })
    }
  }

  private async writeSpan(index: number, span: FileSpan, bytes: Uint8Array): Promise<void> {
    const pooled = await this.acquire(index, span.fileIndex, true)
    try {
      await writeAll(pooled.handle, bytes, span.fileOffset)
    } catch (error) {
      throw asStorageError(error, this.files.pathOf(span.fileIndex), index)
    } finally {
      this.handles.release(pooled)
    }
    this.dirtyFiles.add(span.fileIndex)
  }

  private async readSpan(index: number, span: FileSpan, target: Uint8Array): Promise<void> {
    const pooled = await this.acquire(index, span.fileIndex, false)
    let read: number
    try {
      read = await readAll(pooled.handle, target, span.fileOffset)
    } catch (error) {
      throw asStorageError(error, this.files.pathOf(span.fileIndex), index)
    } finally {
      this.handles.release(pooled)
    }
    if (read < target.length) {
      throw new StorageError('SHORT_FILE', `ends before byte ${span.fileOffset + target.length}`, {
        path: this.files.pathOf(span.fileIndex),
        pieceIndex: index,
      })
    }
  }

  private async createEmptyFile(index: number, fileIndex: number): Promise<void> {
    this.handles.release(await this.acquire(index, fileIndex, true))
  }

  private async acquire(index: number, fileIndex: number, writable: boolean) {
    try {
      return await this.handles.acquire(fileIndex, writable)
    } catch (error) {
      throw asStorageError(error, this.files.pathOf(fileIndex), index)
    }
  }

  private checkPieceList(
    pieces: readonly number[],
    signal: AbortSignal | undefined,
    onProgress: OpenOptions['onProgress'],
    workers: number,
  ): Promise<Bitfield> {
    return checkPieces({
      meta: this.meta,
      pieces,
      read: (index, target) => this.readStored(index, target),
      workers,
      signal,
      onProgress,
    })
  }

  private async loadResume(): Promise<ResumeData | undefined> {
    const path = this.resumeFile
    if (path === undefined) return undefined
    let bytes: Uint8Array
    try {
      // Resume data is a bitfield and two numbers per file: anything far larger is not ours.
      const limit = 1024 * 1024 + 64 * this.meta.files.length + this.meta.pieceCount
      if ((await stat(path)).size > limit) throw new Error(`larger than ${limit} bytes`)
      bytes = await readFile(path)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined
      this.report(asStorageError(error, path))
      return undefined
    }
    try {
      return decodeResume(this.meta, bytes)
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error)
      this.report(new StorageError('BAD_RESUME', `ignored: ${problem}`, { path }, { cause: error }))
      return undefined
    }
  }

  /**
   * Takes the resume data's complete pieces whose files are unchanged (same size and mtime as recorded)
   * and returns the others, which must be re-hashed before they count.
   */
  private async applyResume(resume: ResumeData): Promise<number[]> {
    const relevant: number[] = []
    this.meta.files.forEach((file, index) => {
      if (!file.padding && file.length > 0) relevant.push(index)
    })
    const unchanged = new Set<number>()
    const changed: number[] = []
    await forEachLimit(relevant, FILE_CONCURRENCY, async (fileIndex) => {
      const current = await this.files.stat(fileIndex)
      const recorded = resume.files[fileIndex]
      if (
        current !== null &&
        recorded != null &&
        current.size === recorded.size &&
        current.mtimeNs === recorded.mtimeNs
      ) {
        unchanged.add(fileIndex)
        this.fileStates[fileIndex] = current
      } else if (current !== null) {
        changed.push(fileIndex)
      }
    })
    const suspects = new Set<number>()
    for (const index of resume.have.indices()) {
      const trusted = this.meta.layout
        .spansForPiece(index)
        .every((span) => this.meta.files[span.fileIndex]!.padding || unchanged.has(span.fileIndex))
      if (trusted) this.have.set(index)
      else suspects.add(index)
    }
    // A file written after the last checkpoint (a crash) may hold pieces verified since: hash all of its
    // pieces, not only the ones the resume data names. Unwritten ones just fail the hash.
    for (const fileIndex of changed) {
      const range = this.meta.layout.piecesForFile(fileIndex)
      if (!range) continue
      for (let index = range[0]; index <= range[1]; index++) if (!this.have.has(index)) suspects.add(index)
    }
    return [...suspects].sort((a, b) => a - b)
  }

  private hasCompletePiece(fileIndex: number, have: Bitfield): boolean {
    const range = this.meta.layout.piecesForFile(fileIndex)
    if (range === undefined) return false
    for (let index = range[0]; index <= range[1]; index++) if (have.has(index)) return true
    return false
  }

  private scheduleCheckpoint(): void {
    if (this.resumeFile === undefined || this.closed) return
    if (this.changedPieces >= this.flushPieces) {
      this.clearTimer()
      this.checkpoint().catch((error: unknown) =>
        this.report(asStorageError(error, this.resumeFile as string)),
      )
      return
    }
    this.armTimer()
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.checkpoint().catch((error: unknown) =>
        this.report(asStorageError(error, this.resumeFile as string)),
      )
    }, this.flushInterval)
    this.timer.unref()
  }

  private clearTimer(): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Runs a checkpoint after the one in progress (coalescing requests made meanwhile into one). */
  private checkpoint(): Promise<void> {
    if (this.checkpointQueued !== undefined) return this.checkpointQueued
    if (this.checkpointRunning === undefined) {
      const running = this.writeCheckpoint().finally(() => {
        this.checkpointRunning = undefined
      })
      this.checkpointRunning = running
      return running
    }
    const queued = this.checkpointRunning
      .catch(() => undefined)
      .then(() => {
        this.checkpointQueued = undefined
        return this.checkpoint()
      })
    this.checkpointQueued = queued
    return queued
  }

  private async writeCheckpoint(): Promise<void> {
    const path = this.resumeFile
    if (path === undefined || (this.changedPieces === 0 && this.dirtyFiles.size === 0)) return
    this.clearTimer()
    // Snapshot completion and the files it depends on in one synchronous step: a piece completing
    // later adds its files to the next dirty set and is recorded by the next checkpoint.
    const changed = this.changedPieces
    const dirty = this.dirtyFiles
    const have = Bitfield.fromBytes(this.have.bytes.slice(), this.meta.pieceCount)
    this.changedPieces = 0
    this.dirtyFiles = new Set()
    try {
      await forEachLimit([...dirty], FILE_CONCURRENCY, async (fileIndex) => {
        this.fileStates[fileIndex] = await this.syncFile(fileIndex)
      })
      const unknown: number[] = []
      this.fileStates.forEach((state, fileIndex) => {
        if (state === undefined && this.hasCompletePiece(fileIndex, have)) unknown.push(fileIndex)
      })
      await forEachLimit(unknown, FILE_CONCURRENCY, async (fileIndex) => {
        this.fileStates[fileIndex] = await this.files.stat(fileIndex)
      })
      const files = this.fileStates.map((state) => state ?? null)
      await writeFileAtomic(path, encodeResume(this.meta, { have, files }))
    } catch (error) {
      for (const fileIndex of dirty) this.dirtyFiles.add(fileIndex)
      this.changedPieces += changed
      // Retry on the timer only: a failing disk must not turn the piece-count trigger into a busy loop.
      this.armTimer()
      throw asStorageError(error, path)
    }
  }

  /** Flushes a written file to disk and returns its state; `null` if it has vanished meanwhile. */
  private async syncFile(fileIndex: number): Promise<FileState | null> {
    let pooled: Awaited<ReturnType<HandlePool['acquire']>>
    try {
      pooled = await this.handles.acquire(fileIndex, false)
    } catch (error) {
      if (isAbsent(error)) return null
      throw error
    }
    try {
      await pooled.handle.datasync()
      const info = await pooled.handle.stat({ bigint: true })
      return { size: Number(info.size), mtimeNs: info.mtimeNs }
    } catch (error) {
      throw asStorageError(error, this.files.pathOf(fileIndex))
    } finally {
      this.handles.release(pooled)
    }
  }

  private report(error: StorageError): void {
    this.onError?.(error)
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`piece-store: ${name} must be a positive integer, got ${value}`)
  }
  return value
}

/** Waits for every operation (none is left running on shared buffers), then throws the first failure. */
async function settleAll(operations: Promise<void>[]): Promise<void> {
  if (operations.length === 1) return operations[0]
  const results = await Promise.allSettled(operations)
  for (const result of results) if (result.status === 'rejected') throw result.reason
}

async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  body: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await body(items[next++]!)
  })
  await settleAll(lanes)
}

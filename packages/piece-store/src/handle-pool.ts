// A small LRU of open `FileHandle`s, one per content file, shared by every read and write. A handle is
// reference-counted while an operation uses it and is only closed once nobody does, so the cap on open
// files may be exceeded briefly under load but no in-flight operation ever sees its handle closed.
import type { FileHandle } from 'node:fs/promises'

export type OpenFile = (fileIndex: number, writable: boolean) => Promise<FileHandle>

/** One open (or opening) file. Obtain it from `acquire`, give it back with `release`. */
export interface PooledHandle {
  readonly fileIndex: number
  readonly writable: boolean
  readonly handle: FileHandle
}

class Entry implements PooledHandle {
  refs = 1
  /** Replaced by a writable handle, or evicted while in use: close when the last user releases it. */
  retired = false
  opened: FileHandle | undefined
  ready: Promise<FileHandle>

  constructor(
    readonly fileIndex: number,
    readonly writable: boolean,
    open: Promise<FileHandle>,
  ) {
    this.ready = open.then((handle) => {
      this.opened = handle
      return handle
    })
  }

  get handle(): FileHandle {
    if (this.opened === undefined) throw new Error('piece-store: handle used before it was opened')
    return this.opened
  }
}

export class HandlePool {
  /** In least-recently-used order: re-inserting on every use keeps the oldest first. */
  private readonly entries = new Map<number, Entry>()
  private readonly closing = new Set<Promise<void>>()

  constructor(
    private readonly maxOpen: number,
    private readonly openFile: OpenFile,
    private readonly onCloseError: (error: unknown, fileIndex: number) => void,
  ) {}

  get size(): number {
    return this.entries.size
  }

  /** A handle for `fileIndex`; a writable one if asked (a writable handle also serves reads). */
  async acquire(fileIndex: number, writable: boolean): Promise<PooledHandle> {
    let entry = this.entries.get(fileIndex)
    if (entry !== undefined && (entry.writable || !writable)) {
      entry.refs++
      this.entries.delete(fileIndex)
      this.entries.set(fileIndex, entry)
    } else {
      if (entry !== undefined) this.retire(entry)
      const created = new Entry(fileIndex, writable, this.openFile(fileIndex, writable))
      entry = created
      this.entries.set(fileIndex, created)
      created.ready.catch(() => {
        if (this.entries.get(fileIndex) === created) this.entries.delete(fileIndex)
      })
      this.evict()
    }
    try {
      await entry.ready
    } catch (error) {
      entry.refs--
      throw error
    }
    return entry
  }

  release(pooled: PooledHandle): void {
    const entry = pooled as Entry
    entry.refs--
    if (entry.refs > 0) return
    if (entry.retired) this.closeEntry(entry)
    else this.evict()
  }

  /**
   * Closes the handles nobody is using, so the next access reopens by path: a file deleted or replaced
   * behind our back is then seen as it is on disk, not through an old descriptor.
   */
  closeIdle(fileIndices?: Iterable<number>): void {
    const entries =
      fileIndices === undefined
        ? [...this.entries.values()]
        : [...fileIndices].flatMap((fileIndex) => this.entries.get(fileIndex) ?? [])
    for (const entry of entries) {
      if (entry.refs === 0 && entry.opened !== undefined) this.retire(entry)
    }
  }

  /** Closes every handle. Callers must have released them all (the store waits for its operations). */
  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()]
    this.entries.clear()
    for (const entry of entries) {
      entry.retired = true
      if (entry.refs === 0) this.closeEntry(entry)
    }
    await Promise.all(this.closing)
  }

  private evict(): void {
    if (this.entries.size <= this.maxOpen) return
    for (const entry of this.entries.values()) {
      if (this.entries.size <= this.maxOpen) return
      if (entry.refs === 0 && entry.opened !== undefined) {
        this.entries.delete(entry.fileIndex)
        entry.retired = true
        this.closeEntry(entry)
      }
    }
  }

  private retire(entry: Entry): void {
    this.entries.delete(entry.fileIndex)
    entry.retired = true
    if (entry.refs === 0) this.closeEntry(entry)
  }

  private closeEntry(entry: Entry): void {
    const closing = entry.ready
      .then(
        (handle) => handle.close(),
        () => undefined,
      )
      .catch((error: unknown) => this.onCloseError(error, entry.fileIndex))
      .finally(() => this.closing.delete(closing))
    this.closing.add(closing)
  }
}

// What every store shares: argument checks, hash verification, backpressure accounting, one operation
// per piece at a time, recheck bookkeeping and the close protocol. Subclasses only move bytes.
import { Bitfield } from '@bt/bitfield'
import type { Metainfo } from '@bt/metainfo'
import { PieceHashMismatchError, PieceMissingError, StoreClosedError } from './errors.js'
import { equalBytes, sha1, toHex } from './piece-hash.js'
import type { AbortOptions, PieceStore, RecheckOptions } from './types.js'

/**
 * Default write queue: 8 MiB, or two pieces when pieces are larger. Enough to keep the disk's threads
 * busy; a download's memory is this plus the pieces being assembled, so it must not grow with the torrent.
 */
export function defaultHighWaterMark(pieceLength: number): number {
  return Math.max(8 * 1024 * 1024, 2 * pieceLength)
}

export interface CheckAllOptions {
  signal: AbortSignal
  onProgress: RecheckOptions['onProgress']
  workers: number | undefined
}

export abstract class StoreBase implements PieceStore {
  readonly have: Bitfield
  readonly highWaterMark: number
  /** Aborted when the store closes, so long operations (rechecks) stop. */
  protected readonly closeController = new AbortController()
  private pending = 0
  private readonly drainWaiters = new Set<() => void>()
  private readonly operations = new Set<Promise<unknown>>()
  /** The settled tail of the operations queued on each busy piece. */
  private readonly pieceLocks = new Map<number, Promise<unknown>>()
  private touchedDuringRecheck: Set<number> | undefined
  private recheckQueue: Promise<unknown> = Promise.resolve()
  private closing: Promise<void> | undefined

  constructor(
    protected readonly meta: Metainfo,
    highWaterMark = defaultHighWaterMark(meta.pieceLength),
  ) {
    if (!(highWaterMark > 0))
      throw new RangeError(`piece-store: highWaterMark must be positive, got ${highWaterMark}`)
    this.have = new Bitfield(meta.pieceCount)
    this.highWaterMark = highWaterMark
  }

  /** Writes the piece's bytes (already checked against its hash). */
  /** Stores the spans of piece `index` that lie in wanted files (`wanted(fileIndex)`). */
  protected abstract storePiece(
    index: number,
    data: Uint8Array,
    wanted: (fileIndex: number) => boolean,
  ): Promise<void>
  /** Fills `target` from a range of a complete piece; failures are errors, never short data. */
  protected abstract readRangeInto(index: number, begin: number, target: Uint8Array): Promise<void>
  /** Fills `target` with what is stored for the piece; `false` when it is not there to hash. */
  protected abstract readStored(index: number, target: Uint8Array): Promise<boolean>
  /** Which pieces hash right, judged from storage alone. */
  protected abstract checkAll(options: CheckAllOptions): Promise<Bitfield>
  protected abstract persist(): Promise<void>
  /** Called once by `close`, after every operation has settled. */
  protected abstract release(): Promise<void>
  /** Called by `destroy` before it closes the store: what `release` would persist is about to go. */
  protected discardOnClose(): void {}
  /** Called by every `destroy` once the store is closed: deletes what is stored; absent data is no error. */
  protected abstract erase(): Promise<void>
  /** Called after a bit of `have` flips. */
  protected completionChanged(_index: number, _complete: boolean): void {}

  get pendingBytes(): number {
    return this.pending
  }

  async drained(options: AbortOptions = {}): Promise<void> {
    const { signal } = options
    signal?.throwIfAborted()
    if (this.pending < this.highWaterMark) return
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        cleanup()
        reject(signal?.reason)
      }
      const onDrain = () => {
        cleanup()
        resolve()
      }
      const cleanup = () => {
        this.drainWaiters.delete(onDrain)
        signal?.removeEventListener('abort', onAbort)
      }
      this.drainWaiters.add(onDrain)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Files not to write to (nor create): the caller skipped them. */
  private readonly skipped = new Set<number>()

  setFileWanted(fileIndex: number, wanted: boolean): void {
    if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex >= this.meta.files.length) {
      throw new RangeError(`piece-store: no file ${fileIndex} (the torrent has ${this.meta.files.length})`)
    }
    if (wanted) this.skipped.delete(fileIndex)
    else this.skipped.add(fileIndex)
  }

  isFileWanted(fileIndex: number): boolean {
    return !this.skipped.has(fileIndex)
  }

  async writePiece(index: number, data: Uint8Array, options: AbortOptions = {}): Promise<boolean> {
    this.checkOpen()
    options.signal?.throwIfAborted()
    this.checkIndex(index)
    const length = this.meta.layout.pieceLengthAt(index)
    if (data.length !== length) {
      throw new RangeError(`piece-store: piece ${index} is ${length} bytes, got ${data.length}`)
    }
    this.pending += length
    try {
      return await this.track(
        this.withPieceLock(index, async () => {
          if (this.have.has(index)) return true
          const digest = sha1(data)
          const expected = this.meta.pieceHash(index)
          if (!equalBytes(digest, expected)) {
            throw new PieceHashMismatchError(index, toHex(expected), toHex(digest))
          }
          options.signal?.throwIfAborted()
          const wanted = (fileIndex: number) => !this.skipped.has(fileIndex)
          await this.storePiece(index, data, wanted)
          this.touchedDuringRecheck?.add(index)
          // Bytes of a skipped file were left out: the piece is not whole on disk, so not complete.
          const whole = this.meta.layout
            .spansForPiece(index)
            .every((span) => wanted(span.fileIndex) || this.meta.files[span.fileIndex]!.padding)
          if (whole) this.setComplete(index, true)
          return whole
        }),
      )
    } finally {
      this.pending -= length
      if (this.pending < this.highWaterMark) for (const onDrain of [...this.drainWaiters]) onDrain()
    }
  }

  async readBlock(
    index: number,
    begin: number,
    length: number,
    options: AbortOptions = {},
  ): Promise<Uint8Array> {
    this.checkRead(index, begin, length, options)
    // Never from Buffer's shared pool: the block's ArrayBuffer must hold nothing but the block.
    const buffer = Buffer.allocUnsafeSlow(length)
    const target = new Uint8Array(buffer.buffer, buffer.byteOffset, length)
    await this.track(this.readRangeInto(index, begin, target))
    return target
  }

  async readBlockInto(
    index: number,
    begin: number,
    target: Uint8Array,
    options: AbortOptions = {},
  ): Promise<void> {
    if (!(target instanceof Uint8Array)) throw new TypeError('piece-store: target must be a Uint8Array')
    this.checkRead(index, begin, target.length, options)
    return this.track(this.readRangeInto(index, begin, target))
  }

  async readPiece(index: number, options: AbortOptions = {}): Promise<Uint8Array> {
    this.checkIndex(index)
    return this.readBlock(index, 0, this.meta.layout.pieceLengthAt(index), options)
  }

  async verifyPiece(index: number, options: AbortOptions = {}): Promise<boolean> {
    this.checkOpen()
    options.signal?.throwIfAborted()
    this.checkIndex(index)
    return this.track(
      this.withPieceLock(index, async () => {
        const target = new Uint8Array(this.meta.layout.pieceLengthAt(index))
        const valid =
          (await this.readStored(index, target)) && equalBytes(sha1(target), this.meta.pieceHash(index))
        this.touchedDuringRecheck?.add(index)
        this.setComplete(index, valid)
        return valid
      }),
    )
  }

  async recheck(options: RecheckOptions = {}): Promise<Bitfield> {
    this.checkOpen()
    options.signal?.throwIfAborted()
    const run = this.recheckQueue.then(() => this.runRecheck(options))
    this.recheckQueue = run.catch(() => undefined)
    return this.track(run)
  }

  async flush(options: AbortOptions = {}): Promise<void> {
    this.checkOpen()
    options.signal?.throwIfAborted()
    return this.track(this.persist())
  }

  async close(options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.closing ??= this.shutdown()
    return this.closing
  }

  async destroy(options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.closing === undefined) this.discardOnClose()
    // A close that failed (say, its last checkpoint) leaves nothing worth keeping: the data goes anyway.
    await this.close().catch(() => undefined)
    await this.erase()
    for (const index of [...this.have.indices()]) this.have.clear(index)
  }

  protected get closed(): boolean {
    return this.closing !== undefined
  }

  protected setComplete(index: number, complete: boolean): void {
    const changed = complete ? this.have.set(index) : this.have.clear(index)
    if (changed) this.completionChanged(index, complete)
  }

  private async runRecheck(options: RecheckOptions): Promise<Bitfield> {
    this.checkOpen()
    const link = linkSignals(options.signal, this.closeController.signal)
    const touched = new Set<number>()
    this.touchedDuringRecheck = touched
    try {
      const valid = await this.checkAll({
        signal: link.signal,
        onProgress: options.onProgress,
        workers: options.workers,
      })
      for (let index = 0; index < this.meta.pieceCount; index++) {
        if (!touched.has(index)) this.setComplete(index, valid.has(index))
      }
      return this.have.clone()
    } finally {
      this.touchedDuringRecheck = undefined
      link.dispose()
    }
  }

  private async shutdown(): Promise<void> {
    this.closeController.abort(new StoreClosedError())
    while (this.operations.size > 0) await Promise.allSettled([...this.operations])
    await this.release()
  }

  private track<T>(operation: Promise<T>): Promise<T> {
    this.operations.add(operation)
    const forget = () => this.operations.delete(operation)
    operation.then(forget, forget)
    return operation
  }

  /** Runs `body` after every earlier operation on piece `index` has settled. */
  private async withPieceLock<T>(index: number, body: () => Promise<T>): Promise<T> {
    const previous = this.pieceLocks.get(index)
    const current = previous === undefined ? body() : previous.then(body)
    const tail = current.catch(() => undefined)
    this.pieceLocks.set(index, tail)
    try {
      return await current
    } finally {
      if (this.pieceLocks.get(index) === tail) this.pieceLocks.delete(index)
    }
  }

  private checkRead(index: number, begin: number, length: number, options: AbortOptions): void {
    this.checkOpen()
    options.signal?.throwIfAborted()
    this.checkIndex(index)
    const pieceLength = this.meta.layout.pieceLengthAt(index)
    if (
      !Number.isInteger(begin) ||
      !Number.isInteger(length) ||
      begin < 0 ||
      length <= 0 ||
      begin + length > pieceLength
    ) {
      throw new RangeError(
        `piece-store: block [${begin}, ${begin + length}) is empty or outside piece ${index} (${pieceLength} bytes)`,
      )
    }
    if (!this.have.has(index)) throw new PieceMissingError(index)
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new StoreClosedError()
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.meta.pieceCount) {
      throw new RangeError(`piece-store: piece index ${index} is outside [0, ${this.meta.pieceCount})`)
    }
  }
}

/** One signal aborted by either input, without `AbortSignal.any` (which has leaked listeners in Node). */
export function linkSignals(
  outer: AbortSignal | undefined,
  inner: AbortSignal,
): { signal: AbortSignal; dispose(): void } {
  if (outer === undefined) return { signal: inner, dispose() {} }
  const controller = new AbortController()
  const onOuter = () => controller.abort(outer.reason)
  const onInner = () => controller.abort(inner.reason)
  if (outer.aborted) onOuter()
  else if (inner.aborted) onInner()
  outer.addEventListener('abort', onOuter, { once: true })
  inner.addEventListener('abort', onInner, { once: true })
  return {
    signal: controller.signal,
    dispose() {
      outer.removeEventListener('abort', onOuter)
      inner.removeEventListener('abort', onInner)
    },
  }
}

// Builds a v1 .torrent from files on disk or in memory, streaming the content through SHA-1 piece by
// piece. Directory trees are listed in mktorrent's order so both tools give the same info hash.
import { createHash } from 'node:crypto'
import { close, type Dirent, open, read, type Stats } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import { basename, join, resolve, sep } from 'node:path'
import { type BencodeInput, encode, spanOf } from '@bt/bencode'
import packageJson from '../package.json' with { type: 'json' }
import { choosePieceLength, isValidPieceLength } from './piece-length.js'

/** One file of an explicitly listed torrent. */
export interface CreateTorrentFile {
  /** Path components inside the torrent (under `name` for a multi-file torrent), e.g. `['docs', 'a.txt']`. */
  path: readonly string[]
  length: number
  /** Where the bytes come from: a filesystem path, read while hashing, or the bytes themselves. */
  source: string | Uint8Array
}

/**
 * What to make a torrent of:
 * - a filesystem path: a file gives a single-file torrent, a directory a multi-file torrent named after it;
 * - one `CreateTorrentFile` (its `path` a single component): a single-file torrent;
 * - a list of `CreateTorrentFile`: a multi-file torrent in the list's order (`options.name` required).
 */
export type CreateTorrentInput = string | CreateTorrentFile | readonly CreateTorrentFile[]

export interface CreateTorrentOptions {
  /** The torrent's `name`; defaults to the file or directory name. Required for a list of files. */
  name?: string
  /** A power of two from 16 KiB to 256 MiB; defaults to `choosePieceLength(total size)`. */
  pieceLength?: number
  /**
   * Trackers. Each string is a tier of its own (tried in order, as `transmission-create -t` makes them);
   * an array is one tier of trackers (tried in any order, as `mktorrent -a a,b` makes them). The first
   * tracker becomes `announce`; `announce-list` (BEP 12) is written when there is more than one tracker.
   */
  announce?: string | readonly (string | readonly string[])[]
  /** BEP 27: sets `private` to 1 in the info dictionary (changes the info hash). */
  private?: boolean
  /** `source` in the info dictionary (as `mktorrent -s`), which private trackers use to tell cross-seeded copies apart. */
  source?: string
  /** BEP 19 web seeds (`url-list`). */
  webSeeds?: readonly string[]
  comment?: string
  /** `created by`; defaults to `bt/<version of @bt/metainfo>`, `null` leaves it out. */
  createdBy?: string | null
  /** `creation date`; left out by default so the same input always gives the same bytes. */
  creationDate?: Date
  signal?: AbortSignal
  /** Called after each chunk is hashed, and once more at the end with `hashedBytes === totalBytes`. */
  onProgress?: (hashedBytes: number, totalBytes: number) => void
}

export interface CreatedTorrent {
  /** The encoded .torrent file. */
  torrent: Uint8Array
  /** v1 info hash, 40 lowercase hex digits. */
  infoHash: string
  infoHashBytes: Uint8Array
  pieceLength: number
  pieceCount: number
  /** Total content length in bytes. */
  length: number
  /** The files in torrent order, paths relative to `name` (for a single-file torrent: `[name]`). */
  files: { path: string[]; length: number }[]
}

export type CreateTorrentErrorCode =
  /** An option is malformed (piece length, tracker URL, name…); `option` names it. */
  | 'INVALID_OPTION'
  /** An explicit file list is malformed (bad path component, duplicate path, length mismatch…). */
  | 'INVALID_INPUT'
  /** There is nothing to hash: no files, or only empty ones. */
  | 'EMPTY'
  /** A file name on disk is not valid UTF-8, so it cannot be written into a torrent faithfully. */
  | 'UNSUPPORTED_FILE_NAME'
  /** A symbolic link in the directory resolves outside it, or nowhere. */
  | 'SYMLINK_OUTSIDE_ROOT'
  /** A symbolic link leads back into a directory that contains it. */
  | 'SYMLINK_CYCLE'
  /** A file's size changed between listing and hashing. */
  | 'FILE_CHANGED'
  /** The filesystem refused a read, open or listing; `cause` has the system error. */
  | 'READ_FAILED'

/** `createTorrent` could not make a torrent; `code` says why, `path` names the file involved, if any. */
export class CreateTorrentError extends Error {
  override readonly name = 'CreateTorrentError'
  readonly code: CreateTorrentErrorCode
  /** Filesystem path (or torrent path for listed files) the error is about. */
  readonly path: string | undefined
  /** The option at fault, for `INVALID_OPTION`. */
  readonly option: string | undefined

  constructor(
    code: CreateTorrentErrorCode,
    message: string,
    details: { path?: string; option?: string; cause?: unknown } = {},
  ) {
    super(`metainfo: ${message}`, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.path = details.path
    this.option = details.option
  }
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true })

interface PlannedFile {
  path: string[]
  length: number
  source: string | Uint8Array
}

/**
 * Makes a v1 torrent. The content is read in large chunks and hashed as it streams, so memory stays
 * small whatever the size. Throws `CreateTorrentError`, or the signal's reason when aborted.
 *
 * Directories are walked recursively, hidden files included; files are ordered by their full relative
 * path compared byte by byte (UTF-8), as `mktorrent` orders them, so both give the same info hash.
 * Empty files are listed (length 0); empty directories, FIFOs, sockets and devices are left out.
 * Symbolic links are followed when they resolve inside the directory (the target's content is
 * listed under the link's name); one that leaves the directory or dangles is refused.
 */
export async function createTorrent(
  input: CreateTorrentInput,
  options: CreateTorrentOptions = {},
): Promise<CreatedTorrent> {
  const { signal } = options
  signal?.throwIfAborted()
  const trackers = announceTiers(options.announce)
  const webSeeds = checkUrls(options.webSeeds ?? [], 'webSeeds')
  const creationDate = creationSeconds(options.creationDate)
  for (const option of ['comment', 'source', 'createdBy'] as const) {
    const value = options[option]
    if (value !== undefined && value !== null && (typeof value !== 'string' || !isWellFormed(value))) {
      throw new CreateTorrentError('INVALID_OPTION', `${option} must be well-formed text`, { option })
    }
  }
  if (options.pieceLength !== undefined && !isValidPieceLength(options.pieceLength)) {
    throw new CreateTorrentError(
      'INVALID_OPTION',
      `piece length must be a power of two from 16 KiB to 256 MiB, got ${options.pieceLength}`,
      { option: 'pieceLength' },
    )
  }

  const { name, files, multiFile } = await planContent(input, options.name, signal)
  const length = files.reduce((sum, file) => sum + file.length, 0)
  if (!Number.isSafeInteger(length)) {
    throw new CreateTorrentError('INVALID_INPUT', 'total length exceeds 2^53 - 1 bytes')
  }
  if (length === 0) {
    throw new CreateTorrentError('EMPTY', `nothing to hash in ${JSON.stringify(name)}: no file has content`)
  }
  const pieceLength = options.pieceLength ?? choosePieceLength(length)
  const pieces = await hashPieces(files, pieceLength, length, options)

  const info: Record<string, BencodeInput | undefined> = {
    name,
    'piece length': pieceLength,
    pieces,
    private: options.private ? 1 : undefined,
    source: options.source,
  }
  if (multiFile) {
    info.files = files.map((file) => ({ length: file.length, path: file.path }))
  } else {
    info.length = length
  }
  const createdBy =
    options.createdBy === undefined ? `bt/${packageJson.version}` : (options.createdBy ?? undefined)
  const torrent = encode({
    announce: trackers[0]?.[0],
    'announce-list': trackers.flat().length > 1 ? trackers : undefined,
    comment: options.comment,
    'created by': createdBy,
    'creation date': creationDate,
    info,
    // One web seed is written as a plain string, as mktorrent does; BEP 19 allows both forms.
    'url-list': webSeeds.length === 0 ? undefined : webSeeds.length === 1 ? webSeeds[0] : webSeeds,
  })
  // Hash the info bytes exactly as they sit in the output, the same bytes every reader will hash.
  const span = spanOf(torrent, ['info'])
  const infoHashBytes = new Uint8Array(
    createHash('sha1').update(torrent.subarray(span.start, span.end)).digest(),
  )
  return {
    torrent,
    infoHash: Buffer.from(infoHashBytes).toString('hex'),
    infoHashBytes,
    pieceLength,
    pieceCount: pieces.length / 20,
    length,
    files: files.map((file) => ({ path: multiFile ? file.path : [name], length: file.length })),
  }
}

function announceTiers(announce: CreateTorrentOptions['announce']): string[][] {
  if (announce === undefined) return []
  const entries = typeof announce === 'string' ? [announce] : announce
  if (!Array.isArray(entries)) {
    throw new CreateTorrentError('INVALID_OPTION', 'announce must be a URL or a list of URLs and tiers', {
      option: 'announce',
    })
  }
  const tiers: string[][] = []
  for (const entry of entries) {
    const tier = checkUrls(typeof entry === 'string' ? [entry] : entry, 'announce')
    if (tier.length > 0) tiers.push(tier)
  }
  return tiers
}

function checkUrls(urls: readonly unknown[], option: string): string[] {
  if (!Array.isArray(urls)) {
    throw new CreateTorrentError('INVALID_OPTION', `${option} must be a list of URLs`, { option })
  }
  for (const url of urls) {
    if (typeof url !== 'string' || !URL.canParse(url)) {
      throw new CreateTorrentError('INVALID_OPTION', `${option}: ${JSON.stringify(url)} is not a URL`, {
        option,
      })
    }
  }
  return urls as string[]
}

function creationSeconds(date: Date | undefined): number | undefined {
  if (date === undefined) return undefined
  const time = date instanceof Date ? date.getTime() : Number.NaN
  if (!Number.isFinite(time)) {
    throw new CreateTorrentError('INVALID_OPTION', 'creationDate must be a valid Date', {
      option: 'creationDate',
    })
  }
  return Math.floor(time / 1000)
}

/** No unpaired UTF-16 surrogate: UTF-8 encoding would silently turn it into U+FFFD. */
function isWellFormed(text: string): boolean {
  return !/\p{Surrogate}/u.test(text)
}

/** A name or path component must stand for exactly one entry of a directory on any reader's disk. */
function componentProblem(component: unknown): string | undefined {
  if (typeof component !== 'string') return 'is not a string'
  if (component === '' || component === '.' || component === '..') return 'is empty, "." or ".."'
  if (component.includes('/') || component.includes('\0')) return 'contains "/" or NUL'
  if (!isWellFormed(component)) return 'contains an unpaired surrogate, which UTF-8 cannot hold'
  return undefined
}

function checkName(name: string): string {
  const problem = componentProblem(name)
  if (problem !== undefined) {
    throw new CreateTorrentError('INVALID_OPTION', `name ${JSON.stringify(name)} ${problem}`, {
      option: 'name',
    })
  }
  return name
}

async function planContent(
  input: CreateTorrentInput,
  nameOption: string | undefined,
  signal: AbortSignal | undefined,
): Promise<{ name: string; files: PlannedFile[]; multiFile: boolean }> {
  if (typeof input === 'string') {
    const root = resolve(input)
    const rootStat = await fsCall(() => stat(root), root, 'read')
    const name = checkName(nameOption ?? basename(root))
    if (rootStat.isFile()) {
      return { name, files: [{ path: [name], length: rootStat.size, source: root }], multiFile: false }
    }
    if (!rootStat.isDirectory()) {
      throw new CreateTorrentError('INVALID_INPUT', `${root} is neither a file nor a directory`, {
        path: root,
      })
    }
    return { name, files: await listDirectory(root, signal), multiFile: true }
  }
  if (Array.isArray(input)) {
    if (nameOption === undefined) {
      throw new CreateTorrentError('INVALID_OPTION', 'name is required for a list of files', {
        option: 'name',
      })
    }
    return { name: checkName(nameOption), files: checkListedFiles(input), multiFile: true }
  }
  const single = input as CreateTorrentFile
  const [file] = checkListedFiles([single])
  if (file === undefined || file.path.length !== 1) {
    throw new CreateTorrentError('INVALID_INPUT', 'a single file needs a path of exactly one component')
  }
  return { name: checkName(nameOption ?? file.path[0]!), files: [file], multiFile: false }
}

function checkListedFiles(list: readonly CreateTorrentFile[]): PlannedFile[] {
  const files: PlannedFile[] = []
  const filePaths = new Set<string>()
  const directoryPaths = new Set<string>()
  for (const [index, entry] of list.entries()) {
    const where = `file ${index}`
    if (
      typeof entry !== 'object' ||
      entry === null ||
      !Array.isArray(entry.path) ||
      entry.path.length === 0
    ) {
      throw new CreateTorrentError('INVALID_INPUT', `${where}: path must be a non-empty list of components`)
    }
    for (const component of entry.path) {
      const problem = componentProblem(component)
      if (problem !== undefined) {
        throw new CreateTorrentError(
          'INVALID_INPUT',
          `${where}: component ${JSON.stringify(component)} ${problem}`,
        )
      }
    }
    const path = [...entry.path]
    const key = path.join('/')
    if (!Number.isSafeInteger(entry.length) || entry.length < 0) {
      throw new CreateTorrentError('INVALID_INPUT', `${key}: length must be a non-negative integer`, {
        path: key,
      })
    }
    if (entry.source instanceof Uint8Array) {
      if (entry.source.length !== entry.length) {
        throw new CreateTorrentError(
          'INVALID_INPUT',
          `${key}: length ${entry.length} differs from its ${entry.source.length} source bytes`,
          { path: key },
        )
      }
    } else if (typeof entry.source !== 'string' || entry.source === '') {
      throw new CreateTorrentError('INVALID_INPUT', `${key}: source must be a filesystem path or bytes`, {
        path: key,
      })
    }
    if (filePaths.has(key) || directoryPaths.has(key)) {
      throw new CreateTorrentError(
        'INVALID_INPUT',
        `${key}: listed twice, or both as a file and a directory`,
        { path: key },
      )
    }
    filePaths.add(key)
    for (let depth = 1; depth < path.length; depth++) {
      const directory = path.slice(0, depth).join('/')
      if (filePaths.has(directory)) {
        throw new CreateTorrentError('INVALID_INPUT', `${directory}: listed both as a file and a directory`, {
          path: directory,
        })
      }
      directoryPaths.add(directory)
    }
    files.push({
      path,
      length: entry.length,
      source: typeof entry.source === 'string' ? resolve(entry.source) : entry.source,
    })
  }
  return files
}

/** Entries examined at once while listing: enough to keep the thread pool busy, few enough to stay small. */
const LIST_CONCURRENCY = 64

interface PendingDirectory {
  path: string
  /** Components from the torrent root. */
  relative: string[]
  real: string
  /** Real paths of this directory and every directory above it, to catch link cycles. */
  ancestors: Set<string>
}

/** Lists the regular files under `root` (see `createTorrent` for the rules), in mktorrent's order. */
async function listDirectory(root: string, signal: AbortSignal | undefined): Promise<PlannedFile[]> {
  const rootReal = await fsCall(() => realpath(root), root, 'resolve')
  const inside = rootReal.endsWith(sep) ? rootReal : rootReal + sep
  const found: PlannedFile[] = []
  const pending: PendingDirectory[] = [
    { path: root, relative: [], real: rootReal, ancestors: new Set([rootReal]) },
  ]

  const examine = async (directory: PendingDirectory, entry: Dirent<Buffer>) => {
    const name = decodeFileName(entry.name, directory.path)
    const path = join(directory.path, name)
    const relative = [...directory.relative, name]
    let real = join(directory.real, name)
    let target: Stats | undefined
    if (entry.isSymbolicLink()) {
      real = await fsCall(() => realpath(path), path, 'resolve', 'SYMLINK_OUTSIDE_ROOT')
      if (real !== rootReal && !real.startsWith(inside)) {
        throw new CreateTorrentError(
          'SYMLINK_OUTSIDE_ROOT',
          `${path} links to ${real}, outside ${rootReal}`,
          { path },
        )
      }
      target = await fsCall(() => stat(path), path, 'read')
    }
    if (target?.isDirectory() ?? entry.isDirectory()) {
      if (directory.ancestors.has(real)) {
        throw new CreateTorrentError('SYMLINK_CYCLE', `${path} links back to ${real}, which contains it`, {
          path,
        })
      }
      pending.push({ path, relative, real, ancestors: new Set([...directory.ancestors, real]) })
    } else if (target?.isFile() ?? entry.isFile()) {
      const { size } = target ?? (await fsCall(() => stat(path), path, 'read'))
      found.push({ path: relative, length: size, source: path })
    }
  }

  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    signal?.throwIfAborted()
    const listed = directory
    const entries = await fsCall(
      () => readdir(listed.path, { encoding: 'buffer', withFileTypes: true }),
      listed.path,
      'list',
    )
    for (let start = 0; start < entries.length; start += LIST_CONCURRENCY) {
      await Promise.all(entries.slice(start, start + LIST_CONCURRENCY).map((entry) => examine(listed, entry)))
    }
  }

  // mktorrent keeps its list sorted with strcmp on the whole path: compare UTF-8 bytes, '/' between parts.
  const keyed = found.map((file) => ({ file, key: Buffer.from(file.path.join('/'), 'utf8') }))
  keyed.sort((a, b) => Buffer.compare(a.key, b.key))
  return keyed.map(({ file }) => file)
}

function decodeFileName(raw: Buffer, directory: string): string {
  try {
    return utf8Strict.decode(raw)
  } catch {
    const shown = raw.toString('latin1')
    throw new CreateTorrentError(
      'UNSUPPORTED_FILE_NAME',
      `${join(directory, shown)}: file name is not valid UTF-8 (bytes ${raw.toString('hex')})`,
      { path: join(directory, shown) },
    )
  }
}

async function fsCall<T>(
  call: () => Promise<T>,
  path: string,
  action: string,
  missingCode: CreateTorrentErrorCode = 'READ_FAILED',
): Promise<T> {
  try {
    return await call()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason = code ?? (err instanceof Error ? err.message : String(err))
    throw new CreateTorrentError(
      code === 'ENOENT' || code === 'ELOOP' ? missingCode : 'READ_FAILED',
      `cannot ${action} ${path}: ${reason}`,
      { path, cause: err },
    )
  }
}

async function hashPieces(
  files: readonly PlannedFile[],
  pieceLength: number,
  totalLength: number,
  options: CreateTorrentOptions,
): Promise<Uint8Array> {
  const { signal, onProgress } = options
  const hasher = new PieceHasher(pieceLength, Math.ceil(totalLength / pieceLength))
  const reader = new ContentReader(files)
  let hashed = 0
  try {
    for (let chunk = await reader.next(); chunk !== undefined; chunk = await reader.next()) {
      signal?.throwIfAborted()
      hasher.update(chunk)
      hashed += chunk.length
      onProgress?.(hashed, totalLength)
    }
  } finally {
    await reader.close()
  }
  signal?.throwIfAborted()
  return hasher.finish()
}

/** SHA-1 of consecutive `pieceLength` runs of a byte stream fed in arbitrary chunks. */
class PieceHasher {
  private readonly pieces: Uint8Array
  private hash = createHash('sha1')
  private filled = 0
  private index = 0

  constructor(
    private readonly pieceLength: number,
    private readonly pieceCount: number,
  ) {
    this.pieces = new Uint8Array(pieceCount * 20)
  }

  update(data: Uint8Array): void {
    let offset = 0
    while (offset < data.length) {
      const take = Math.min(this.pieceLength - this.filled, data.length - offset)
      this.hash.update(take === data.length ? data : data.subarray(offset, offset + take))
      this.filled += take
      offset += take
      if (this.filled === this.pieceLength) this.endPiece()
    }
  }

  finish(): Uint8Array {
    if (this.filled > 0) this.endPiece()
    if (this.index !== this.pieceCount) {
      throw new Error(`metainfo: hashed ${this.index} pieces, expected ${this.pieceCount}`)
    }
    return this.pieces
  }

  private endPiece(): void {
    this.pieces.set(this.hash.digest(), this.index * 20)
    this.index++
    this.hash = createHash('sha1')
    this.filled = 0
  }
}

/** Largest read; big enough that per-call overhead vanishes next to hashing, small enough to stay cached. */
const CHUNK_SIZE = 4 * 1024 * 1024
/** Reads in flight at most: many small files are read concurrently so their opens and reads overlap. */
const READ_AHEAD_COUNT = 32
/** Bytes of read buffers in flight at most (one chunk more is always allowed). */
const READ_AHEAD_BYTES = 16 * 1024 * 1024
/** Reads at least this long use recycled `CHUNK_SIZE` buffers; shorter ones get a buffer of their own. */
const POOLED_READ = 1024 * 1024

interface Chunk {
  bytes: Uint8Array
  /** The recycled buffer the bytes sit in, returned to the pool once the caller is done with them. */
  pooled: Uint8Array | undefined
}

interface InFlight {
  chunk: Promise<Chunk>
  /** Buffer bytes the read holds. */
  cost: number
}

interface OpenFile {
  fd: Promise<number>
  readsLeft: number
  allScheduled: boolean
}

/**
 * Yields the content of the files in order, in chunks of at most `CHUNK_SIZE` bytes, reading ahead of
 * the caller: while this thread hashes one chunk, the thread pool reads the next ones (several files
 * at once when they are small). In-memory sources are yielded as views. A chunk stays valid until the
 * next call to `next()`.
 */
class ContentReader {
  private fileIndex = 0
  private fileOffset = 0
  private readonly inFlight: InFlight[] = []
  private aheadBytes = 0
  private readonly openFiles = new Map<number, OpenFile>()
  private readonly closing = new Set<Promise<void>>()
  private readonly spare: Uint8Array[] = []
  private lent: Uint8Array | undefined

  constructor(private readonly files: readonly PlannedFile[]) {}

  async next(): Promise<Uint8Array | undefined> {
    if (this.lent !== undefined) this.spare.push(this.lent)
    this.lent = undefined
    this.schedule()
    const head = this.inFlight.shift()
    if (head === undefined) return undefined
    this.aheadBytes -= head.cost
    const { bytes, pooled } = await head.chunk
    this.lent = pooled
    return bytes
  }

  /** Waits for every read in flight, then closes every file, whatever state the reader is in. */
  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight.map((read) => read.chunk))
    this.inFlight.length = 0
    for (const [index, open] of this.openFiles) this.closeFile(index, open)
    await Promise.all(this.closing)
  }

  private schedule(): void {
    while (this.fileIndex < this.files.length && this.inFlight.length < READ_AHEAD_COUNT) {
      const file = this.files[this.fileIndex]!
      const offset = this.fileOffset
      const length = Math.min(CHUNK_SIZE, file.length - offset)
      if (length === 0) {
        this.fileIndex++
        this.fileOffset = 0
        continue
      }
      const last = offset + length === file.length
      let read: InFlight
      if (file.source instanceof Uint8Array) {
        read = {
          chunk: Promise.resolve({ bytes: file.source.subarray(offset, offset + length), pooled: undefined }),
          cost: 0,
        }
      } else {
        // The last read asks for one byte more than listed, to notice a file that grew.
        const size = last ? length + 1 : length
        const cost = size >= POOLED_READ ? CHUNK_SIZE + 1 : size
        if (this.inFlight.length > 0 && this.aheadBytes + cost > READ_AHEAD_BYTES) return
        read = { chunk: this.read(this.fileIndex, file.source, offset, size, length, last), cost }
      }
      // Rejections are rethrown when the chunk is awaited in `next()`; until then they are not unhandled.
      read.chunk.catch(() => {})
      this.inFlight.push(read)
      this.aheadBytes += read.cost
      this.fileOffset += length
    }
  }

  private async read(
    fileIndex: number,
    path: string,
    offset: number,
    size: number,
    length: number,
    last: boolean,
  ): Promise<Chunk> {
    let open = this.openFiles.get(fileIndex)
    if (open === undefined) {
      const fd = fsCall(() => openFd(path), path, 'open')
      fd.catch(() => {})
      open = { fd, readsLeft: 0, allScheduled: false }
      this.openFiles.set(fileIndex, open)
    }
    open.readsLeft++
    if (last) open.allScheduled = true
    const pooled = size >= POOLED_READ ? (this.spare.pop() ?? new Uint8Array(CHUNK_SIZE + 1)) : undefined
    const buffer = pooled ?? Buffer.allocUnsafe(size)
    try {
      const fd = await open.fd
      let filled = 0
      // A regular file only reads short at its end, but a short read must not pass for the end.
      while (filled < length) {
        const target = filled
        const bytesRead = await fsCall(
          () => readAt(fd, buffer, target, size - target, offset + target),
          path,
          'read',
        )
        if (bytesRead === 0) break
        filled += bytesRead
      }
      if (filled < length) {
        throw new CreateTorrentError(
          'FILE_CHANGED',
          `${path} ended at byte ${offset + filled}, before its listed end`,
          { path },
        )
      }
      if (filled > length) {
        throw new CreateTorrentError(
          'FILE_CHANGED',
          `${path} is longer than the ${offset + length} bytes listed`,
          { path },
        )
      }
      return { bytes: buffer.subarray(0, length), pooled }
    } catch (err) {
      if (pooled !== undefined) this.spare.push(pooled)
      throw err
    } finally {
      open.readsLeft--
      if (open.readsLeft === 0 && open.allScheduled) this.closeFile(fileIndex, open)
    }
  }

  private closeFile(index: number, open: OpenFile): void {
    if (this.openFiles.get(index) !== open) return
    this.openFiles.delete(index)
    const closed = open.fd.then(closeFd, () => {})
    this.closing.add(closed)
    void closed.finally(() => this.closing.delete(closed))
  }
}

// Plain descriptors rather than `FileHandle`s: per file they cost half the CPU, which shows on trees of
// many small files. `ContentReader` closes every descriptor it opens.
function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))))
}

function readAt(
  fd: number,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))),
  )
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()))
}

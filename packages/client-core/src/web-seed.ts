// A BEP 19 web seed (`url-list`): runs of whole pieces fetched over HTTP(S) as ranged GETs, one per
// file part, a few at a time. It keeps its own health: a missing file is dropped for this seed, errors
// back off (`Retry-After`, else exponentially), so the owner only asks `canServe` before `fetchPieces`.
//
// It knows no torrent and no peer: it returns bytes and the caller verifies them, reporting a failed
// hash through `fileFailed`. Memory is bounded by the run asked for: a server that ignores `Range` is
// read as a stream, its bytes before the range discarded and the rest cancelled once the range is in.
import { bytesToUtf8, bytesToUtf8Strict, decode } from '@bt/bencode'
import type { Metainfo } from '@bt/metainfo'
import { requestScope } from './abort.js'
import { WebSeedHttpError, WebSeedResponseError, WebSeedUnavailableError } from './errors.js'

export interface WebSeedInit {
  /** One `url-list` entry. */
  url: string
  meta: Metainfo
  /** Connections (requests in flight) at most. Default 2. */
  maxConnections?: number
  /** Per request, body included. Default 30 s. */
  requestTimeoutMs?: number
  /** Redirects followed at most. Default 5. */
  maxRedirects?: number
  /** Injectable; default the global (undici) fetch. */
  fetch?: typeof globalThis.fetch
  /** Clock for back-off times, injected so tests need not wait. Default `Date.now`. */
  now?: () => number
  /**
   * A file is dropped for this seed (missing there, another size, a path no URL can address safely, or
   * `fileFailed`): for the owner's typed event. Not called again for the same file.
   */
  onFileDropped?: (fileIndex: number, reason: string) => void
}

export type WebSeedState =
  | { kind: 'ready' }
  | { kind: 'backing-off'; until: number; error: Error }
  | { kind: 'dropped'; reason: string }

export interface WebSeed {
  readonly url: string
  /** Whether it may be asked now: ready, backing off (until when, and why), or dropped for good. */
  readonly state: WebSeedState
  /**
   * Fetches pieces [first, last] (consecutive, possibly spanning files) and returns their bytes, whole
   * pieces, in order; padding files are zeros, never asked for. Rejects with `WebSeedUnavailableError`
   * when `canServe` would have said no, a `WebSeedHttpError`/`WebSeedResponseError` when a request
   * fails (the state then says what follows), the signal's reason when aborted, `RangeError` for a bad run.
   */
  fetchPieces(first: number, last: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>
  /** Data from this seed failed the hash for a piece touching `fileIndex`: never ask it for that file again. */
  fileFailed(fileIndex: number): void
  /** Whether it can serve piece `index`: no dropped file in it, not dropped, not backing off at `now`. */
  canServe(index: number, now: number): boolean
}

/** First back-off after an error without `Retry-After`; it doubles per consecutive failure. */
export const WEB_SEED_MIN_BACKOFF_MS = 5_000
export const WEB_SEED_MAX_BACKOFF_MS = 300_000
/** A `Retry-After` longer than this is taken as this: a server cannot park a source for days. */
const MAX_RETRY_AFTER_MS = 3_600_000

/** Back-off after `failures` consecutive errors (≥ 1): 5 s, 10 s, 20 s, … up to 5 min. */
export function webSeedRetryDelayMs(failures: number): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30)
  return Math.min(WEB_SEED_MIN_BACKOFF_MS * 2 ** exponent, WEB_SEED_MAX_BACKOFF_MS)
}

/**
 * A `Retry-After` header as a delay in ms from `now`: delta-seconds or an HTTP-date (IMF-fixdate,
 * RFC 850, asctime — all GMT); a date in the past gives 0. `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value == null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS)
  // Every HTTP-date starts with a day name; Date.parse alone would take "5.5" or "2024" as dates.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined
  // asctime has no zone and Date.parse would read it as local time; HTTP dates are GMT.
  const date = Date.parse(/GMT$/i.test(text) ? text : `${text} GMT`)
  if (Number.isNaN(date)) return undefined
  return Math.min(Math.max(date - now, 0), MAX_RETRY_AFTER_MS)
}

/** One ranged GET of a run: bytes [start, end] (inclusive, as in `Range`) of a file, landing at `at`. */
export interface WebSeedRange {
  fileIndex: number
  start: number
  end: number
  /** Offset of `start` in the run's bytes. */
  at: number
}

/** A run of pieces as requests: its length, and one range per non-padding file it touches, in order. */
export interface WebSeedPlan {
  length: number
  ranges: WebSeedRange[]
}

/** The requests that fetch pieces [first, last]; padding files are left out (their bytes are zeros). */
export function planWebSeedRun(
  meta: Pick<Metainfo, 'files' | 'layout'>,
  first: number,
  last: number,
): WebSeedPlan {
  const { layout } = meta
  if (
    !Number.isInteger(first) ||
    !Number.isInteger(last) ||
    first < 0 ||
    last < first ||
    last >= layout.pieceCount
  ) {
    throw new RangeError(`web seed: pieces [${first}, ${last}] are not a run of [0, ${layout.pieceCount})`)
  }
  const offset = first * layout.pieceLength
  const length = Math.min((last + 1) * layout.pieceLength, layout.totalLength) - offset
  const ranges: WebSeedRange[] = []
  let at = 0
  for (const span of layout.spansForRange(offset, length)) {
    if (!meta.files[span.fileIndex]?.padding) {
      ranges.push({
        fileIndex: span.fileIndex,
        start: span.fileOffset,
        end: span.fileOffset + span.length - 1,
        at,
      })
    }
    at += span.length
  }
  return { length, ranges }
}

/**
 * The URL of file `fileIndex` as BEP 19 builds it. Single-file: `url` itself, or `url` + name when it
 * ends in `/`. Multi-file: `url` + `/` (unless it ends in one) + name + `/` + path, each component
 * percent-encoded as UTF-8, everything but RFC 3986 unreserved characters. The torrent's own spelling
 * (`originalPath`, the raw `name`) is used, since that is what the server's files are called.
 *
 * `undefined` for a relative or non-http(s) `url`, and for a file whose components cannot be addressed
 * safely: empty, `.` or `..` (URL parsers resolve them, `%2e%2e` included, and servers decode before
 * resolving, so no encoding keeps them from reaching another file), or containing `/` or NUL.
 */
export function webSeedFileUrl(url: string, meta: Metainfo, fileIndex: number): string | undefined {
  const base = parseHttpUrl(url)
  const file = meta.files[fileIndex]
  if (!base || !file) return undefined
  let components: readonly string[]
  if (meta.multiFile) components = [rawName(meta), ...file.originalPath]
  else if (base.pathname.endsWith('/')) components = [file.originalPath[0] ?? meta.name]
  else return base.href
  const encoded: string[] = []
  for (const component of components) {
    const part = encodePathComponent(component)
    if (part === undefined) return undefined
    encoded.push(part)
  }
  base.pathname = `${base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`}${encoded.join('/')}`
  return base.href
}

function parseHttpUrl(url: string): URL | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined
  parsed.hash = ''
  return parsed
}

function encodePathComponent(component: string): string | undefined {
  if (component === '' || component === '.' || component === '..' || /[/\0]/.test(component)) return undefined
  try {
    return encodeURIComponent(component).replace(
      /[!'()*]/g,
      (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
    )
  } catch {
    // A lone surrogate: not text a server's file name could be.
    return undefined
  }
}

const rawNames = new WeakMap<Metainfo, string>()

/** A multi-file torrent's `name` as spelled in the info dict (`meta.name` is sanitised for the disk). */
function rawName(meta: Metainfo): string {
  let name = rawNames.get(meta)
  if (name === undefined) {
    name = meta.name
    try {
      const info = decode(meta.infoBytes, { strict: false })
      if (info instanceof Map) {
        const utf8 = info.get('name.utf-8')
        const plain = info.get('name')
        const preferred = utf8 instanceof Uint8Array ? bytesToUtf8Strict(utf8) : undefined
        if (preferred) name = preferred
        else if (plain instanceof Uint8Array && plain.length > 0) name = bytesToUtf8(plain)
      }
    } catch {
      // Parsed once already, so this does not fail; the sanitised name is the fallback if it does.
    }
    rawNames.set(meta, name)
  }
  return name
}

export function createWebSeed(init: WebSeedInit): WebSeed {
  return new HttpWebSeed(init)
}

const READY: WebSeedState = Object.freeze({ kind: 'ready' })

/** Statuses that say the server has no (usable) copy of this file, whatever we try later. */
const FILE_GONE = new Set([404, 410, 416])

class HttpWebSeed implements WebSeed {
  readonly url: string
  private readonly meta: Metainfo
  private readonly maxConnections: number
  private readonly requestTimeoutMs: number
  private readonly maxRedirects: number
  private readonly fetch: typeof globalThis.fetch
  private readonly now: () => number
  private readonly onFileDropped: ((fileIndex: number, reason: string) => void) | undefined
  /** Files this seed will not be asked for, with why. */
  private readonly droppedFiles = new Map<number, string>()
  private readonly fileUrls = new Map<number, string>()
  /** Files with bytes that are not padding: when all are dropped, so is the seed. */
  private readonly servableFiles: number
  private dropReason: string | undefined
  private backoff: { until: number; error: Error } | undefined
  private consecutiveFailures = 0
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(init: WebSeedInit) {
    this.url = init.url
    this.meta = init.meta
    this.maxConnections = integerAtLeast(1, init.maxConnections ?? 2, 'maxConnections')
    this.requestTimeoutMs = integerAtLeast(1, init.requestTimeoutMs ?? 30_000, 'requestTimeoutMs')
    this.maxRedirects = integerAtLeast(0, init.maxRedirects ?? 5, 'maxRedirects')
    this.fetch = init.fetch ?? globalThis.fetch
    this.now = init.now ?? Date.now
    this.onFileDropped = init.onFileDropped
    this.servableFiles = init.meta.files.reduce(
      (n, file) => (file.padding || file.length === 0 ? n : n + 1),
      0,
    )
    if (!parseHttpUrl(init.url)) this.dropReason = 'not an absolute http(s) URL'
  }

  get state(): WebSeedState {
    if (this.dropReason !== undefined) return { kind: 'dropped', reason: this.dropReason }
    if (this.backoff && this.backoff.until > this.now()) {
      return { kind: 'backing-off', until: this.backoff.until, error: this.backoff.error }
    }
    return READY
  }

  canServe(index: number, now: number): boolean {
    if (this.dropReason !== undefined || (this.backoff && this.backoff.until > now)) return false
    if (!Number.isInteger(index) || index < 0 || index >= this.meta.pieceCount) return false
    for (const span of this.meta.layout.spansForPiece(index)) {
      if (!this.meta.files[span.fileIndex]?.padding && this.fileUrl(span.fileIndex) === undefined)
        return false
    }
    return true
  }

  fileFailed(fileIndex: number): void {
    this.dropFile(fileIndex, 'its data failed the hash check')
  }

  async fetchPieces(
    first: number,
    last: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    const { signal } = options
    signal?.throwIfAborted()
    const plan = planWebSeedRun(this.meta, first, last)
    for (const range of plan.ranges) this.checkUsable(range.fileIndex)
    const data = new Uint8Array(plan.length)
    if (plan.ranges.length === 0) return data
    // One controller per run: the first failing part stops its siblings.
    const run = new AbortController()
    const onAbort = () => run.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      let failure: { error: unknown } | undefined
      await Promise.all(
        plan.ranges.map((range) =>
          this.fetchRange(range, data, run.signal).catch((error: unknown) => {
            if (!failure) {
              failure = { error }
              run.abort(error)
            }
          }),
        ),
      )
      if (signal?.aborted) throw signal.reason
      if (failure) throw failure.error
      return data
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Throws unless the seed, backing-off aside or not, may be asked for this file now. */
  private checkUsable(fileIndex: number): void {
    if (this.dropReason !== undefined) throw new WebSeedUnavailableError(this.url, 'dropped', this.dropReason)
    if (this.backoff && this.backoff.until > this.now()) {
      const seconds = Math.ceil((this.backoff.until - this.now()) / 1000)
      throw new WebSeedUnavailableError(
        this.url,
        'backing-off',
        `backing off for ${seconds} s after: ${this.backoff.error.message}`,
      )
    }
    if (this.fileUrl(fileIndex) === undefined) {
      const why = this.droppedFiles.get(fileIndex) ?? 'dropped'
      throw new WebSeedUnavailableError(this.url, 'file-dropped', `file ${fileIndex}: ${why}`)
    }
  }

  /** The file's URL, or `undefined` once it is dropped (or has no safe URL, which drops it). */
  private fileUrl(fileIndex: number): string | undefined {
    if (this.droppedFiles.has(fileIndex)) return undefined
    let url = this.fileUrls.get(fileIndex)
    if (url === undefined) {
      url = webSeedFileUrl(this.url, this.meta, fileIndex)
      if (url === undefined) {
        this.dropFile(fileIndex, 'its path cannot be addressed safely in a URL')
        return undefined
      }
      this.fileUrls.set(fileIndex, url)
    }
    return url
  }

  private dropFile(fileIndex: number, reason: string): void {
    const file = this.meta.files[fileIndex]
    if (!file || this.droppedFiles.has(fileIndex)) return
    this.droppedFiles.set(fileIndex, reason)
    this.fileUrls.delete(fileIndex)
    if (file.padding || file.length === 0) return
    let dropped = 0
    for (const index of this.droppedFiles.keys()) {
      const droppedFile = this.meta.files[index]
      if (droppedFile && !droppedFile.padding && droppedFile.length > 0) dropped++
    }
    if (dropped >= this.servableFiles && this.dropReason === undefined) {
      this.dropReason = `no file left to ask for (the last: file ${fileIndex}, ${reason})`
    }
    this.onFileDropped?.(fileIndex, reason)
  }

  private async fetchRange(range: WebSeedRange, data: Uint8Array, runSignal: AbortSignal): Promise<void> {
    await this.acquire(runSignal)
    try {
      this.checkUsable(range.fileIndex)
      const url = this.fileUrls.get(range.fileIndex)!
      const scope = requestScope(this.requestTimeoutMs, runSignal)
      try {
        await this.get(url, range, data, scope.signal)
        this.consecutiveFailures = 0
      } catch (error) {
        if (runSignal.aborted) throw runSignal.reason
        const failure = scope.signal.aborted
          ? new WebSeedResponseError(url, 'timeout', `no complete answer within ${this.requestTimeoutMs} ms`)
          : error
        this.recordFailure(range.fileIndex, failure)
        throw failure
      } finally {
        scope.dispose()
      }
    } finally {
      this.release()
    }
  }

  /** One ranged GET, redirects followed; the wanted bytes land in `data`. */
  private async get(
    fileUrl: string,
    range: WebSeedRange,
    data: Uint8Array,
    signal: AbortSignal,
  ): Promise<void> {
    const file = this.meta.files[range.fileIndex]!
    let url = fileUrl
    for (let redirects = 0; ; redirects++) {
      const response = await this.send(url, range, signal)
      const { status } = response
      if (status >= 300 && status < 400 && status !== 304) {
        await response.body?.cancel().catch(() => {})
        url = this.redirectTarget(url, response.headers.get('location'), redirects)
        continue
      }
      if (status === 206) {
        const contentRange = response.headers.get('content-range')
        const match = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(contentRange?.trim() ?? '')
        const total = !match || match[3] === '*' ? undefined : Number(match[3])
        if (total !== undefined && total !== file.length) {
          await response.body?.cancel().catch(() => {})
          throw new WebSeedResponseError(
            url,
            'file-size',
            `the file has ${total} bytes, the torrent says ${file.length}`,
          )
        }
        // A range reaching further than asked is cut; one that starts elsewhere or ends short is wrong.
        if (!match || Number(match[1]) !== range.start || Number(match[2]) < range.end) {
          await response.body?.cancel().catch(() => {})
          throw new WebSeedResponseError(
            url,
            'content-range',
            `asked for bytes ${range.start}-${range.end}, got Content-Range ${contentRange ?? '(none)'}`,
          )
        }
        await readInto(url, response, 0, data, range)
        return
      }
      if (status === 200) {
        // The server ignored Range: the whole file comes, of which only the range is kept.
        const length = response.headers.get('content-length')
        if (length !== null && /^\d+$/.test(length) && Number(length) !== file.length) {
          await response.body?.cancel().catch(() => {})
          throw new WebSeedResponseError(
            url,
            'file-size',
            `the file has ${length} bytes, the torrent says ${file.length}`,
          )
        }
        await readInto(url, response, range.start, data, range)
        return
      }
      await response.body?.cancel().catch(() => {})
      const retryAfter =
        status === 503 || status === 429
          ? parseRetryAfter(response.headers.get('retry-after'), this.now())
          : undefined
      throw new WebSeedHttpError(url, status, retryAfter)
    }
  }

  /**
   * The GET itself. A request that gets no response at all is sent once more at once: a kept-alive
   * connection the server closed just as we reused it fails that way, and a GET may be repeated.
   */
  private async send(url: string, range: WebSeedRange, signal: AbortSignal): Promise<Response> {
    // With a Range header, fetch itself sends `Accept-Encoding: identity` (Fetch spec, HTTP-network-or-cache fetch).
    const request: RequestInit = {
      headers: { range: `bytes=${range.start}-${range.end}` },
      redirect: 'manual',
      signal,
    }
    try {
      return await this.fetch(url, request)
    } catch (error) {
      if (signal.aborted) throw error
      try {
        return await this.fetch(url, request)
      } catch (again) {
        throw networkError(url, again)
      }
    }
  }

  private redirectTarget(from: string, location: string | null, redirects: number): string {
    if (redirects >= this.maxRedirects) {
      throw new WebSeedResponseError(from, 'redirect-limit', `more than ${this.maxRedirects} redirects`)
    }
    const target = location === null ? undefined : parseRedirect(location, from)
    if (!target) {
      throw new WebSeedResponseError(from, 'redirect-target', `redirect to ${location ?? '(no Location)'}`)
    }
    return target
  }

  private recordFailure(fileIndex: number, error: unknown): void {
    if (
      (error instanceof WebSeedHttpError && FILE_GONE.has(error.status)) ||
      (error instanceof WebSeedResponseError && error.reason === 'file-size')
    ) {
      this.dropFile(fileIndex, (error as Error).message)
      return
    }
    const now = this.now()
    // Parts of one run failing together are one failure, not several doublings.
    if (!this.backoff || this.backoff.until <= now) this.consecutiveFailures++
    const delay =
      error instanceof WebSeedHttpError && error.retryAfterMs !== undefined
        ? error.retryAfterMs
        : webSeedRetryDelayMs(this.consecutiveFailures)
    const until = Math.max(now + delay, this.backoff?.until ?? 0)
    this.backoff = { until, error: error instanceof Error ? error : new Error(String(error)) }
  }

  private async acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (this.active < this.maxConnections) {
      this.active++
      return
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        const at = this.waiting.indexOf(grant)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(signal.reason)
      }
      this.waiting.push(grant)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Hands the slot to the next waiter, if any. */
  private release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.active--
  }
}

function parseRedirect(location: string, from: string): string | undefined {
  let target: URL
  try {
    target = new URL(location, from)
  } catch {
    return undefined
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return undefined
  target.hash = ''
  return target.href
}

/**
 * Reads `response`'s body into `data` at `range.at`: `skip` bytes are discarded first, then the range's
 * bytes kept, and the body is cancelled once they are in (a server's extra bytes are never read).
 */
async function readInto(
  url: string,
  response: Response,
  skip: number,
  data: Uint8Array,
  range: WebSeedRange,
): Promise<void> {
  const wanted = range.end - range.start + 1
  const reader = response.body?.getReader()
  let got = 0
  let done = false
  try {
    while (reader && got < wanted) {
      const next = await reader.read()
      if (next.done) {
        done = true
        break
      }
      let chunk = next.value
      if (skip > 0) {
        const dropped = Math.min(skip, chunk.length)
        skip -= dropped
        chunk = chunk.subarray(dropped)
      }
      const kept = Math.min(wanted - got, chunk.length)
      data.set(chunk.subarray(0, kept), range.at + got)
      got += kept
    }
  } catch (error) {
    throw networkError(url, error)
  } finally {
    if (reader && !done) await reader.cancel().catch(() => {})
  }
  if (got < wanted) {
    throw new WebSeedResponseError(url, 'short-body', `the body ended after ${got} of ${wanted} bytes`)
  }
}

/** Wrapped whatever it is: when a signal caused it, `fetchRange` sees the signal and reports that instead. */
function networkError(url: string, error: unknown): WebSeedResponseError {
  const detail =
    error instanceof Error
      ? error.cause instanceof Error
        ? error.cause.message
        : error.message
      : String(error)
  return new WebSeedResponseError(url, 'network', `request failed: ${detail}`, { cause: error })
}

function integerAtLeast(min: number, value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`web seed: ${name} must be an integer of at least ${min}, got ${value}`)
  }
  return value
}

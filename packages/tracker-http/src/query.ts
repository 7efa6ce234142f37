// Request URLs as real trackers parse them: raw binary values percent-encoded byte by byte, appended to
// whatever query the tracker URL already carries (private trackers put passkeys there).
import { ScrapeNotSupportedError, TrackerUrlError } from './errors.js'

export type AnnounceEvent = 'started' | 'completed' | 'stopped'

export interface AnnounceParams {
  /** The torrent's 20-byte (v1) info hash. */
  infoHash: Uint8Array
  /** Our 20-byte peer id. */
  peerId: Uint8Array
  /** The port we accept peer connections on. */
  port: number
  uploaded: number | bigint
  downloaded: number | bigint
  /** Bytes still missing. Trackers count a peer with `left = 0` as a seed. */
  left: number | bigint
  /** Omitted for the regular re-announce. */
  event?: AnnounceEvent
  /** How many peers we would like; the tracker's default when omitted. */
  numwant?: number
  /** Lets the tracker recognise us across IP changes: a uint32 (sent as 8 hex digits) or a string. */
  key?: number | string
  /** The `tracker id` a previous response carried; send it back on later announces. */
  trackerId?: Uint8Array | string
  /** Ask for BEP 23 compact peer lists (`compact=1`). Default `true`. */
  compact?: boolean
}

const HEX = '0123456789ABCDEF'
const utf8 = new TextEncoder()

/** RFC 3986 unreserved: `A–Z a–z 0–9 - . _ ~`. */
function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e
  )
}

/**
 * Percent-encodes every byte except unreserved characters, as `%XX` with upper-case hex. Never `+`:
 * trackers decode `+` as a space in some places and as `+` in others.
 */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) {
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 0x0f]}`
  }
  return out
}

/** Parses a tracker URL, accepting only http: and https:. */
export function parseTrackerUrl(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (cause) {
    throw new TrackerUrlError(url, 'not a URL', { cause })
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TrackerUrlError(url, `unsupported protocol ${parsed.protocol} (only http: and https:)`)
  }
  return parsed
}

/** The URL with `query` appended to its existing query (if any) and its fragment dropped. */
function withQuery(url: URL, query: string): URL {
  const copy = new URL(url.href)
  copy.hash = ''
  const href = copy.href
  if (!href.includes('?')) return new URL(`${href}?${query}`)
  if (href.endsWith('?') || href.endsWith('&')) return new URL(`${href}${query}`)
  return new URL(`${href}&${query}`)
}

/** The full announce request URL for `params`. Throws `TypeError`/`RangeError` for invalid params. */
export function announceRequestUrl(announceUrl: string, params: AnnounceParams): URL {
  const url = parseTrackerUrl(announceUrl)
  checkBytes(params.infoHash, 'infoHash')
  checkBytes(params.peerId, 'peerId')
  if (!Number.isInteger(params.port) || params.port < 0 || params.port > 65535) {
    throw new RangeError(`tracker-http: port must be an integer 0–65535, got ${params.port}`)
  }
  const parts = [
    `info_hash=${percentEncodeBytes(params.infoHash)}`,
    `peer_id=${percentEncodeBytes(params.peerId)}`,
    `port=${params.port}`,
    `uploaded=${counter(params.uploaded, 'uploaded')}`,
    `downloaded=${counter(params.downloaded, 'downloaded')}`,
    `left=${counter(params.left, 'left')}`,
    `compact=${params.compact === false ? 0 : 1}`,
  ]
  if (params.event !== undefined) {
    if (params.event !== 'started' && params.event !== 'completed' && params.event !== 'stopped') {
      throw new RangeError(`tracker-http: event must be started, completed or stopped, got ${params.event}`)
    }
    parts.push(`event=${params.event}`)
  }
  if (params.numwant !== undefined) parts.push(`numwant=${counter(params.numwant, 'numwant')}`)
  if (params.key !== undefined) parts.push(`key=${formatKey(params.key)}`)
  if (params.trackerId !== undefined) {
    const id = typeof params.trackerId === 'string' ? utf8.encode(params.trackerId) : params.trackerId
    parts.push(`trackerid=${percentEncodeBytes(id)}`)
  }
  return withQuery(url, parts.join('&'))
}

/** The full scrape request URL for a scrape URL and the info hashes to ask about. */
export function scrapeRequestUrl(scrapeUrl: string, infoHashes: readonly Uint8Array[]): URL {
  const url = parseTrackerUrl(scrapeUrl)
  if (infoHashes.length === 0) throw new RangeError('tracker-http: scrape needs at least one info hash')
  for (const infoHash of infoHashes) checkBytes(infoHash, 'infoHash')
  return withQuery(url, infoHashes.map((infoHash) => `info_hash=${percentEncodeBytes(infoHash)}`).join('&'))
}

/**
 * The scrape URL of an announce URL by the BEP 48 convention: the last path segment must start with
 * `announce`, which becomes `scrape`; the rest (`.php`, the query) is kept. Throws
 * `ScrapeNotSupportedError` when the convention does not apply, `TrackerUrlError` for a non-http(s) URL.
 */
export function scrapeUrlFor(announceUrl: string): string {
  const url = parseTrackerUrl(announceUrl)
  const path = url.pathname
  const slash = path.lastIndexOf('/')
  const last = path.slice(slash + 1)
  if (!last.startsWith('announce')) throw new ScrapeNotSupportedError(announceUrl)
  url.pathname = `${path.slice(0, slash + 1)}scrape${last.slice('announce'.length)}`
  url.hash = ''
  return url.href
}

function checkBytes(value: Uint8Array, name: string): void {
  if (!(value instanceof Uint8Array) || value.length !== 20) {
    throw new TypeError(`tracker-http: ${name} must be a 20-byte Uint8Array`)
  }
}

function counter(value: number | bigint, name: string): string {
  const ok = typeof value === 'bigint' ? value >= 0n : Number.isSafeInteger(value) && value >= 0
  if (!ok) throw new RangeError(`tracker-http: ${name} must be a non-negative integer, got ${value}`)
  return value.toString()
}

function formatKey(key: number | string): string {
  if (typeof key === 'string') return percentEncodeBytes(utf8.encode(key))
  if (!Number.isInteger(key) || key < 0 || key > 0xffffffff) {
    throw new RangeError(`tracker-http: a numeric key must be a uint32, got ${key}`)
  }
  // libtorrent's format: eight upper-case hex digits.
  return key.toString(16).toUpperCase().padStart(8, '0')
}

// Error classes of @bt/client-core. Callers match on `err.name`.

export interface TrackerFailure {
  url: string
  error: Error
}

/** Every tracker of a torrent failed in one round; `failures` has each tracker's own error. */
export class AllTrackersFailedError extends Error {
  override readonly name = 'AllTrackersFailedError'
  readonly failures: TrackerFailure[]

  constructor(failures: TrackerFailure[]) {
    super(
      failures.length === 0
        ? 'client-core: the torrent has no trackers'
        : `client-core: all ${failures.length} trackers failed: ${failures.map((f) => `${f.url}: ${f.error.message}`).join('; ')}`,
    )
    this.failures = failures
  }
}

/** A tracker URL whose scheme this client cannot announce to (e.g. `wss:`). */
export class UnsupportedTrackerError extends Error {
  override readonly name = 'UnsupportedTrackerError'
  readonly url: string

  constructor(url: string) {
    super(`client-core: unsupported tracker URL ${url} (only http, https and udp)`)
    this.url = url
  }
}

/** A peer's BEP 9 `ut_metadata` message that cannot be read. */
export class MetadataMessageError extends Error {
  override readonly name = 'MetadataMessageError'

  constructor(detail: string) {
    super(`client-core: malformed ut_metadata message: ${detail}`)
  }
}

/**
 * The info dictionary that hashed to the magnet's info hash is not a usable torrent (BEP 9 metadata
 * arrived, but `parseInfoDict` refused it): no peer can give a better one, so the fetch ends.
 */
export class InvalidMetadataError extends Error {
  override readonly name = 'InvalidMetadataError'
  readonly infoHash: string

  constructor(infoHash: string, cause: Error) {
    super(`client-core: the metadata of ${infoHash} is not a usable torrent: ${cause.message}`, { cause })
    this.infoHash = infoHash
  }
}

export type PexMessageErrorReason =
  | 'too-large'
  | 'not-bencode'
  | 'not-a-dictionary'
  | 'invalid-field'
  | 'too-many'

/** A peer's `ut_pex` message that cannot be read. */
export class PexMessageError extends Error {
  override readonly name = 'PexMessageError'
  readonly reason: PexMessageErrorReason

  constructor(reason: PexMessageErrorReason, detail: string) {
    super(`client-core: malformed ut_pex message: ${detail}`)
    this.reason = reason
  }
}

/**
 * A torrent or a metadata fetch was stopped (`stop()`, `Client.remove`, `close`, or its signal) before
 * it finished: what `done` rejects with then.
 */
export class TorrentStoppedError extends Error {
  override readonly name = 'TorrentStoppedError'
  readonly infoHash: string

  constructor(infoHash: string, what: 'torrent' | 'metadata fetch' = 'torrent') {
    super(`client-core: the ${what} of ${infoHash} was stopped before it finished`)
    this.infoHash = infoHash
  }
}

/** `Client.add` of a torrent whose info hash the client already holds. */
export class DuplicateTorrentError extends Error {
  override readonly name = 'DuplicateTorrentError'
  readonly infoHash: string

  constructor(infoHash: string) {
    super(`client-core: torrent ${infoHash} was added already`)
    this.infoHash = infoHash
  }
}

/**
 * A BEP 19 web seed answered a request with a status that gives no data: 404/410 (the file is not
 * there), 416 (its copy is shorter than the torrent's), 503/429 (busy; `retryAfterMs` from
 * `Retry-After` when it said), or any other.
 */
export class WebSeedHttpError extends Error {
  override readonly name = 'WebSeedHttpError'
  /** The URL that answered (after redirects). */
  readonly url: string
  readonly status: number
  readonly retryAfterMs: number | undefined

  constructor(url: string, status: number, retryAfterMs?: number) {
    const wait = retryAfterMs === undefined ? '' : ` (retry after ${Math.round(retryAfterMs / 1000)} s)`
    super(`client-core: web seed ${url} answered HTTP ${status}${wait}`)
    this.url = url
    this.status = status
    this.retryAfterMs = retryAfterMs
  }
}

export type WebSeedResponseErrorReason =
  /** A 206 whose `Content-Range` is missing, malformed, or not the range asked for. */
  | 'content-range'
  /** The server's copy of the file has another size than the torrent says. */
  | 'file-size'
  /** The body ended before the bytes asked for. */
  | 'short-body'
  /** More redirects than `maxRedirects`. */
  | 'redirect-limit'
  /** A redirect without a usable `Location`, or to anything but http(s). */
  | 'redirect-target'
  /** The connection failed (refused, reset, DNS). */
  | 'network'
  /** No complete answer within `requestTimeoutMs`. */
  | 'timeout'

/** A BEP 19 web seed's answer that cannot be used, or none came. */
export class WebSeedResponseError extends Error {
  override readonly name = 'WebSeedResponseError'
  readonly url: string
  readonly reason: WebSeedResponseErrorReason

  constructor(
    url: string,
    reason: WebSeedResponseErrorReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`client-core: web seed ${url}: ${detail}`, options)
    this.url = url
    this.reason = reason
  }
}

/**
 * A web seed was asked for pieces it cannot serve now: it backs off after an error, it was dropped, or
 * a file of the run was dropped for it (missing there, or its data failed the hash).
 */
export class WebSeedUnavailableError extends Error {
  override readonly name = 'WebSeedUnavailableError'
  readonly url: string
  readonly reason: 'backing-off' | 'dropped' | 'file-dropped'

  constructor(url: string, reason: 'backing-off' | 'dropped' | 'file-dropped', detail: string) {
    super(`client-core: web seed ${url} cannot serve this now: ${detail}`)
    this.url = url
    this.reason = reason
  }
}

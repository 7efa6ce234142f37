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

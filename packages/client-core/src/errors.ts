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

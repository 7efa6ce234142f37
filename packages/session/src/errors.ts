// The package's error classes, one per condition. Callers match on `err.name`, which survives
// duplicated installs.

/** No torrent of that id (or info hash) in the session. */
export class TorrentNotFoundError extends Error {
  override readonly name = 'TorrentNotFoundError'
  readonly id: number | string

  constructor(id: number | string) {
    super(`session: no torrent ${JSON.stringify(id)}`)
    this.id = id
  }
}

/** A call on a session after `close()`. */
export class SessionClosedError extends Error {
  override readonly name = 'SessionClosedError'

  constructor() {
    super('session: the session is closed')
  }
}

export type StateDirErrorReason =
  | 'unreadable-record'
  | 'unreadable-torrent'
  | 'unreadable-session'
  | 'unreadable-settings'

/**
 * A file of the state dir cannot be read back (not JSON, not a torrent, wrong info hash). Reported
 * through `SessionInit.onWarning`; the session opens without that torrent rather than failing.
 */
export class StateDirError extends Error {
  override readonly name = 'StateDirError'
  readonly reason: StateDirErrorReason
  readonly path: string

  constructor(reason: StateDirErrorReason, path: string, options: { cause?: unknown } = {}) {
    super(`session: cannot read ${path} (${reason})`, { cause: options.cause })
    this.reason = reason
    this.path = path
  }
}

/** The torrent's content is gone although verified pieces of it were recorded: nothing is re-downloaded over it silently. */
export class DataMissingError extends Error {
  override readonly name = 'DataMissingError'
  readonly infoHash: string
  readonly path: string

  constructor(infoHash: string, path: string) {
    super(`No data found at ${path}: its files went missing (restore them, or verify to download again)`)
    this.infoHash = infoHash
    this.path = path
  }
}

/** A move of a torrent's content would land on something already there (which is left untouched). */
export class MoveTargetExistsError extends Error {
  override readonly name = 'MoveTargetExistsError'
  readonly path: string

  constructor(path: string) {
    super(`session: cannot move the data to ${path}: something is already there`)
    this.path = path
  }
}

/** A rename would go through a symlink that leads out of the torrent's download dir. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError'
  readonly path: string

  constructor(path: string) {
    super(`session: ${path} leads outside the download dir`)
    this.path = path
  }
}

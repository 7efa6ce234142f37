/** What went wrong while starting a seeder. */
export type SeederErrorCode =
  /** The content path does not exist or is neither a file nor a folder. */
  | 'INVALID_PATH'
  /** An option is malformed (tracker URL, port…); `option` names it. */
  | 'INVALID_OPTION'
  /** The tracker did not accept our first announce (unreachable, refused, or too slow). */
  | 'TRACKER_FAILED'

/** `startSeeder` could not start; `code` says why. */
export class SeederError extends Error {
  override readonly name = 'SeederError'
  readonly code: SeederErrorCode
  readonly option: string | undefined

  constructor(code: SeederErrorCode, message: string, details: { option?: string; cause?: unknown } = {}) {
    super(`seeder: ${message}`, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.option = details.option
  }
}

/** The demo failed: the download did not finish, or its bytes differ from the source. */
export class DemoError extends Error {
  override readonly name = 'DemoError'

  constructor(message: string, options?: { cause?: unknown }) {
    super(`demo: ${message}`, options)
  }
}

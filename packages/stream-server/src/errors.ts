// The package's error classes, one per condition. Callers match on `err.name`, which survives
// duplicated installs.

/** `createStreamServer` was asked to bind an address that is not loopback without `allowNonLoopback`. */
export class NonLoopbackHostError extends Error {
  override readonly name = 'NonLoopbackHostError'
  /** The host as given, or the address it resolved to when the name itself looked local. */
  readonly host: string

  constructor(host: string) {
    super(
      `stream-server: refusing to listen on ${JSON.stringify(host)}, which is not a loopback address ` +
        '(pass allowNonLoopback: true to serve other machines)',
    )
    this.host = host
  }
}

export type InvalidStreamSourceReason = 'duplicate-index' | 'invalid-index' | 'invalid-length'

/** The source's file list cannot be served: an index or length that is not a non-negative safe integer, or an index twice. */
export class InvalidStreamSourceError extends Error {
  override readonly name = 'InvalidStreamSourceError'
  readonly reason: InvalidStreamSourceReason
  /** The offending file's `index` as the source gave it. */
  readonly fileIndex: number

  constructor(reason: InvalidStreamSourceReason, fileIndex: number, message: string) {
    super(`stream-server: ${message}`)
    this.reason = reason
    this.fileIndex = fileIndex
  }
}

export type StreamReadErrorReason = 'source-failed' | 'too-many-bytes' | 'too-few-bytes'

/**
 * A response body could not be completed: the source's `read` rejected (the torrent stopped), or it
 * yielded more or fewer bytes than asked for. The connection was destroyed, so the client sees a short
 * body, never a wrong one. Reported through `StreamServerInit.onReadError`; a read aborted because the
 * client left is not an error.
 */
export class StreamReadError extends Error {
  override readonly name = 'StreamReadError'
  readonly reason: StreamReadErrorReason
  readonly fileIndex: number
  readonly start: number
  readonly end: number
  /** Bytes written to the client before the failure. */
  readonly sent: number

  constructor(
    reason: StreamReadErrorReason,
    range: { fileIndex: number; start: number; end: number; sent: number },
    options: { cause?: unknown } = {},
  ) {
    const what =
      reason === 'source-failed'
        ? 'the source failed'
        : reason === 'too-many-bytes'
          ? 'the source yielded more bytes than asked for'
          : 'the source ended early'
    super(
      `stream-server: reading bytes ${range.start}-${range.end} of file ${range.fileIndex}: ${what} after ${range.sent} bytes`,
      { cause: options.cause },
    )
    this.reason = reason
    this.fileIndex = range.fileIndex
    this.start = range.start
    this.end = range.end
    this.sent = range.sent
  }
}

// One class per failure of a UDP tracker request. Callers match on `name` (it survives duplicated
// installs); every error carries the tracker `url` it concerns.

/** The announce URL is not `udp://host:port[/path][?query]`. */
export class InvalidTrackerUrlError extends Error {
  override readonly name = 'InvalidTrackerUrlError'
  readonly url: string

  constructor(url: string, reason: string) {
    super(`tracker-udp: invalid UDP tracker URL ${JSON.stringify(url)}: ${reason}`)
    this.url = url
  }
}

/** The tracker answered with the `error` action (3); `trackerMessage` is its text. */
export class UdpTrackerErrorResponse extends Error {
  override readonly name = 'UdpTrackerErrorResponse'
  readonly url: string
  readonly trackerMessage: string

  constructor(url: string, trackerMessage: string) {
    super(`tracker-udp: ${url} answered with an error: ${trackerMessage}`)
    this.url = url
    this.trackerMessage = trackerMessage
  }
}

/** No answer in time: either the caller's `timeoutMs` elapsed or every retransmission went unanswered. */
export class UdpTrackerTimeoutError extends Error {
  override readonly name = 'UdpTrackerTimeoutError'
  readonly url: string
  /** Datagrams sent for the request that timed out (first send plus retransmissions). */
  readonly attempts: number
  /** The caller's `timeoutMs` when that is what expired, otherwise undefined. */
  readonly timeoutMs: number | undefined

  constructor(url: string, details: { attempts: number; timeoutMs?: number }) {
    const why =
      details.timeoutMs === undefined
        ? `no answer after ${details.attempts} attempts`
        : `no answer within ${details.timeoutMs} ms`
    super(`tracker-udp: ${url}: ${why}`)
    this.url = url
    this.attempts = details.attempts
    this.timeoutMs = details.timeoutMs
  }
}

/** The tracker's answer matched our transaction but was malformed (too short, wrong action, bad length). */
export class UdpTrackerProtocolError extends Error {
  override readonly name = 'UdpTrackerProtocolError'
  readonly url: string
  readonly reason: string

  constructor(url: string, reason: string) {
    super(`tracker-udp: ${url} sent a malformed response: ${reason}`)
    this.url = url
    this.reason = reason
  }
}

/** Resolving the tracker's host name, or sending to it, failed; `cause` holds the system error. */
export class UdpTrackerNetworkError extends Error {
  override readonly name = 'UdpTrackerNetworkError'
  readonly url: string
  readonly operation: 'lookup' | 'send' | 'socket'

  constructor(url: string, operation: 'lookup' | 'send' | 'socket', cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    super(`tracker-udp: ${url}: ${operation} failed: ${detail}`, { cause })
    this.url = url
    this.operation = operation
  }
}

/** The client was closed while the request was pending, or before it was made. */
export class UdpTrackerClosedError extends Error {
  override readonly name = 'UdpTrackerClosedError'
  readonly url: string

  constructor(url: string) {
    super(`tracker-udp: client closed before ${url} answered`)
    this.url = url
  }
}

// The package's error classes, one per condition. Callers match on `err.name`, which survives
// duplicated installs. `url` is always the tracker URL as the caller gave it (or the scrape URL derived
// from it), without the query this package appends.

/** The tracker answered with `failure reason`: it refused the request. `reason` is the tracker's text. */
export class TrackerFailureError extends Error {
  override readonly name = 'TrackerFailureError'
  readonly url: string
  readonly reason: string
  /** BEP 31 `retry in`: minutes to wait before asking again, or `'never'`. */
  readonly retryIn: number | 'never' | undefined

  constructor(url: string, reason: string, retryIn?: number | 'never') {
    super(`tracker-http: ${url} refused the request: ${reason}`)
    this.url = url
    this.reason = reason
    this.retryIn = retryIn
  }
}

/** The tracker answered with an HTTP status other than 200 (after following redirects). */
export class TrackerHttpStatusError extends Error {
  override readonly name = 'TrackerHttpStatusError'
  readonly url: string
  readonly status: number
  readonly statusText: string

  constructor(url: string, status: number, statusText: string) {
    super(`tracker-http: ${url} answered HTTP ${status}${statusText ? ` ${statusText}` : ''}`)
    this.url = url
    this.status = status
    this.statusText = statusText
  }
}

/** The body is not bencode, not a dictionary, or a field has the wrong type or an impossible value. */
export class TrackerResponseError extends Error {
  override readonly name = 'TrackerResponseError'
  readonly url: string
  /** The offending field (`interval`, `peers`, …), when one field is to blame. */
  readonly field: string | undefined

  constructor(url: string, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(`tracker-http: ${url} sent a malformed response: ${message}`, { cause: options.cause })
    this.url = url
    this.field = options.field
  }
}

/** No complete answer arrived within `timeout` milliseconds (connect, redirects and body included). */
export class TrackerTimeoutError extends Error {
  override readonly name = 'TrackerTimeoutError'
  readonly url: string
  readonly timeout: number

  constructor(url: string, timeout: number) {
    super(`tracker-http: ${url} did not answer within ${timeout} ms`)
    this.url = url
    this.timeout = timeout
  }
}

/** The body is (or announces itself as) larger than `limit` bytes; it was not read further. */
export class TrackerBodyTooLargeError extends Error {
  override readonly name = 'TrackerBodyTooLargeError'
  readonly url: string
  readonly limit: number

  constructor(url: string, limit: number) {
    super(`tracker-http: ${url} sent a body larger than ${limit} bytes`)
    this.url = url
    this.limit = limit
  }
}

/** Too many redirects, a redirect without `Location`, or one to something other than http(s). */
export class TrackerRedirectError extends Error {
  override readonly name = 'TrackerRedirectError'
  readonly url: string
  /** The `Location` that was refused, if there was one. */
  readonly location: string | undefined
  readonly redirects: number

  constructor(url: string, message: string, redirects: number, location?: string) {
    super(`tracker-http: ${url}: ${message}`)
    this.url = url
    this.location = location
    this.redirects = redirects
  }
}

/** The connection failed or broke: refused, reset, TLS rejected, or the body ended early. `cause` says why. */
export class TrackerConnectionError extends Error {
  override readonly name = 'TrackerConnectionError'
  readonly url: string

  constructor(url: string, message: string, options: { cause?: unknown } = {}) {
    super(`tracker-http: ${url}: ${message}`, { cause: options.cause })
    this.url = url
  }
}

/** The URL is not an http(s) URL this package can talk to. */
export class TrackerUrlError extends Error {
  override readonly name = 'TrackerUrlError'
  readonly url: string

  constructor(url: string, message: string, options: { cause?: unknown } = {}) {
    super(`tracker-http: ${message}: ${JSON.stringify(url)}`, { cause: options.cause })
    this.url = url
  }
}

/** BEP 48: the announce URL's last path segment does not start with `announce`, so there is no scrape URL. */
export class ScrapeNotSupportedError extends Error {
  override readonly name = 'ScrapeNotSupportedError'
  readonly url: string

  constructor(url: string) {
    super(`tracker-http: ${url} has no scrape URL (its last path segment does not start with "announce")`)
    this.url = url
  }
}

// One bounded HTTP(S) GET: a single deadline covers connecting, redirects and the body; the body is
// counted while it streams and the connection is cut the moment it passes the cap.
import http from 'node:http'
import https from 'node:https'
import {
  TrackerBodyTooLargeError,
  TrackerConnectionError,
  TrackerHttpStatusError,
  TrackerRedirectError,
  TrackerTimeoutError,
} from './errors.js'

/** Options every request takes. */
export interface TrackerRequestOptions {
  signal?: AbortSignal
  /** Milliseconds for the whole request: connecting, every redirect and the full body. Default 15 000. */
  timeout?: number
  /** Largest body accepted, in bytes. Default 2 MiB. */
  maxBodySize?: number
  /** Redirects followed before giving up. Default 5. */
  maxRedirects?: number
  /** Sent as `User-Agent`; no such header by default. */
  userAgent?: string
  /**
   * Agents to use per protocol, e.g. for keep-alive or a custom TLS trust store. By default every
   * request uses a fresh connection that is closed after the response.
   */
  agent?: { http?: http.Agent; https?: https.Agent }
}

export const DEFAULT_TIMEOUT = 15_000
export const DEFAULT_MAX_BODY_SIZE = 2 * 1024 * 1024
export const DEFAULT_MAX_REDIRECTS = 5

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

type Hop = { kind: 'body'; body: Uint8Array } | { kind: 'redirect'; location: string | undefined }

interface HopContext {
  trackerUrl: string
  deadline: number
  timeout: number
  maxBodySize: number
  signal: AbortSignal | undefined
  userAgent: string | undefined
  agent: TrackerRequestOptions['agent']
}

/**
 * GETs `requestUrl` and returns the body of its 200 answer. `trackerUrl` (without our query) is what
 * errors report. Rejects with the signal's reason on abort and with this package's errors otherwise.
 */
export async function httpGet(
  requestUrl: URL,
  trackerUrl: string,
  options: TrackerRequestOptions = {},
): Promise<Uint8Array> {
  options.signal?.throwIfAborted()
  const timeout = positive(options.timeout, DEFAULT_TIMEOUT, 'timeout')
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0) {
    throw new RangeError(`tracker-http: maxRedirects must be a non-negative integer, got ${maxRedirects}`)
  }
  const context: HopContext = {
    trackerUrl,
    deadline: Date.now() + timeout,
    timeout,
    maxBodySize: positive(options.maxBodySize, DEFAULT_MAX_BODY_SIZE, 'maxBodySize'),
    signal: options.signal,
    userAgent: options.userAgent,
    agent: options.agent,
  }
  let url = requestUrl
  for (let redirects = 0; ; redirects++) {
    // An abort between two hops fired no listener; catch it before the next request starts.
    options.signal?.throwIfAborted()
    const hop = await requestOnce(url, context)
    if (hop.kind === 'body') return hop.body
    if (redirects >= maxRedirects) {
      throw new TrackerRedirectError(
        trackerUrl,
        `more than ${maxRedirects} redirects`,
        redirects,
        hop.location,
      )
    }
    if (hop.location === undefined) {
      throw new TrackerRedirectError(trackerUrl, 'redirect without a Location header', redirects)
    }
    let next: URL
    try {
      next = new URL(hop.location, url)
    } catch (cause) {
      throw new TrackerRedirectError(
        trackerUrl,
        `redirect to an invalid URL (${String(cause)})`,
        redirects,
        hop.location,
      )
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new TrackerRedirectError(
        trackerUrl,
        `redirect to ${next.protocol} refused`,
        redirects,
        hop.location,
      )
    }
    url = next
  }
}

function requestOnce(url: URL, context: HopContext): Promise<Hop> {
  const { trackerUrl, signal, maxBodySize } = context
  return new Promise<Hop>((resolve, reject) => {
    const isHttps = url.protocol === 'https:'
    const agent = (isHttps ? context.agent?.https : context.agent?.http) ?? false
    const headers: http.OutgoingHttpHeaders = {}
    if (context.userAgent !== undefined) headers['user-agent'] = context.userAgent
    const request = (isHttps ? https : http).request(url, { method: 'GET', agent, headers })
    let settled = false
    const settle = (error: unknown, hop?: Hop) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (hop) {
        if (hop.kind === 'redirect') request.destroy()
        resolve(hop)
      } else {
        request.destroy()
        reject(error)
      }
    }
    const onAbort = () => settle(signal?.reason)
    const timer = setTimeout(
      () => settle(new TrackerTimeoutError(trackerUrl, context.timeout)),
      // setTimeout fires at once for delays beyond 2^31 − 1 ms; nobody waits 24 days for a tracker.
      Math.min(Math.max(0, context.deadline - Date.now()), 0x7fffffff),
    )
    signal?.addEventListener('abort', onAbort, { once: true })

    // Listeners stay attached after settling: a destroyed request may still emit 'error'.
    request.on('error', (cause) => settle(new TrackerConnectionError(trackerUrl, cause.message, { cause })))
    request.on('response', (response) => {
      const status = response.statusCode ?? 0
      response.on('error', (cause) =>
        settle(new TrackerConnectionError(trackerUrl, `response broke off: ${cause.message}`, { cause })),
      )
      if (REDIRECT_STATUSES.has(status)) {
        settle(undefined, { kind: 'redirect', location: response.headers.location })
        return
      }
      if (status !== 200) {
        settle(new TrackerHttpStatusError(trackerUrl, status, response.statusMessage ?? ''))
        return
      }
      const declared = Number(response.headers['content-length'])
      if (declared > maxBodySize) {
        settle(new TrackerBodyTooLargeError(trackerUrl, maxBodySize))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBodySize) settle(new TrackerBodyTooLargeError(trackerUrl, maxBodySize))
        else chunks.push(chunk)
      })
      response.on('end', () => settle(undefined, { kind: 'body', body: Buffer.concat(chunks, size) }))
      response.on('close', () => {
        if (!response.complete) {
          settle(new TrackerConnectionError(trackerUrl, 'connection closed before the body was complete'))
        }
      })
    })
    request.end()
  })
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`tracker-http: ${name} must be a positive number, got ${value}`)
  }
  return value
}

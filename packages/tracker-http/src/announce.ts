// BEP 3 announce over HTTP(S), with BEP 7 and BEP 23 peer lists.
import { httpGet, type TrackerRequestOptions } from './http-get.js'
import { type AnnounceParams, announceRequestUrl } from './query.js'
import { type AnnounceResponse, parseAnnounceResponse } from './response.js'

export interface AnnounceOptions extends TrackerRequestOptions {
  /** Peers kept from one response (IPv4 and IPv6 together); the rest are dropped. Default 2000. */
  maxPeers?: number
}

export const DEFAULT_MAX_PEERS = 2000

/**
 * Announces to an http(s) tracker and returns its answer. `announceUrl` may carry its own query (a
 * passkey, say); the announce parameters are appended to it.
 *
 * Rejects with `TrackerFailureError` when the tracker refuses, and with `TrackerHttpStatusError`,
 * `TrackerResponseError`, `TrackerTimeoutError`, `TrackerBodyTooLargeError`, `TrackerRedirectError`,
 * `TrackerConnectionError` or `TrackerUrlError` for the other ways a request fails; with the signal's
 * reason when aborted; with `TypeError`/`RangeError` for invalid params.
 */
export async function announce(
  announceUrl: string,
  params: AnnounceParams,
  options: AnnounceOptions = {},
): Promise<AnnounceResponse> {
  options.signal?.throwIfAborted()
  const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS
  if (!Number.isInteger(maxPeers) || maxPeers < 0) {
    throw new RangeError(`tracker-http: maxPeers must be a non-negative integer, got ${maxPeers}`)
  }
  const requestUrl = announceRequestUrl(announceUrl, params)
  const body = await httpGet(requestUrl, announceUrl, options)
  return parseAnnounceResponse(body, announceUrl, maxPeers)
}

// BEP 48 scrape over HTTP(S): swarm counts for one or more info hashes in one request.
import { httpGet, type TrackerRequestOptions } from './http-get.js'
import { scrapeRequestUrl, scrapeUrlFor } from './query.js'
import { parseScrapeResponse, type ScrapeResponse } from './response.js'

/**
 * Scrapes the tracker behind `announceUrl` (its scrape URL is derived by BEP 48: the last path segment
 * `announce…` becomes `scrape…`). Returns counts keyed by lower-case hex info hash; hashes the tracker
 * does not know are absent from the map.
 *
 * Rejects with `ScrapeNotSupportedError` when the announce URL has no scrape URL, and otherwise as
 * `announce` does.
 */
export async function scrape(
  announceUrl: string,
  infoHashes: readonly Uint8Array[],
  options: TrackerRequestOptions = {},
): Promise<ScrapeResponse> {
  options.signal?.throwIfAborted()
  const scrapeUrl = scrapeUrlFor(announceUrl)
  const requestUrl = scrapeRequestUrl(scrapeUrl, infoHashes)
  const body = await httpGet(requestUrl, scrapeUrl, options)
  return parseScrapeResponse(body, scrapeUrl, infoHashes)
}

export { type AnnounceOptions, announce, DEFAULT_MAX_PEERS } from './announce.js'
export {
  ScrapeNotSupportedError,
  TrackerBodyTooLargeError,
  TrackerConnectionError,
  TrackerFailureError,
  TrackerHttpStatusError,
  TrackerRedirectError,
  TrackerResponseError,
  TrackerTimeoutError,
  TrackerUrlError,
} from './errors.js'
export {
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_TIMEOUT,
  type TrackerRequestOptions,
} from './http-get.js'
export { type AnnounceEvent, type AnnounceParams, scrapeUrlFor } from './query.js'
export {
  type AnnouncedPeer,
  type AnnounceResponse,
  DEFAULT_INTERVAL,
  type ScrapeEntry,
  type ScrapeResponse,
} from './response.js'
export { scrape } from './scrape.js'

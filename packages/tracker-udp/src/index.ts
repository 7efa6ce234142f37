export { DEFAULT_RETRANSMIT_BASE_MS, MAX_RETRANSMITS, retransmitTimeoutMs } from './backoff.js'
export {
  InvalidTrackerUrlError,
  UdpTrackerClosedError,
  UdpTrackerErrorResponse,
  UdpTrackerNetworkError,
  UdpTrackerProtocolError,
  UdpTrackerTimeoutError,
} from './errors.js'
export {
  type AnnounceEvent,
  type AnnounceParams,
  type AnnounceResponse,
  createUdpTrackerClient,
  type ScrapeResult,
  type UdpTrackerClient,
  type UdpTrackerClientInit,
  type UdpTrackerRequestOptions,
} from './udp-tracker-client.js'

export {
  Announcer,
  type AnnouncerEvents,
  type AnnouncerInit,
  announceOnce,
  type TrackerStatus,
} from './announcer.js'
export { AllTrackersFailedError, type TrackerFailure, UnsupportedTrackerError } from './errors.js'
export { generatePeerId, PEER_ID_PREFIX } from './peer-id.js'
export { type BackoffOptions, trackerRetryDelayMs } from './tracker-backoff.js'
export {
  type AnnounceEvent,
  type AnnounceRequest,
  createTrackerTransport,
  type TrackerAnnounce,
  type TrackerTransport,
  type TrackerTransportInit,
} from './tracker-transport.js'

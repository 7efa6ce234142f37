export {
  type Alert,
  type AlertType,
  type BanReason,
  type DialFailure,
  type DropReason,
  describeAlert,
} from './alerts.js'
export {
  Announcer,
  type AnnouncerEvents,
  type AnnouncerInit,
  announceOnce,
  type TrackerStatus,
} from './announcer.js'
export { BanList, type BanListEvents, type BanListInit } from './ban-list.js'
export {
  BLOCK_SIZE,
  blockCount,
  blockLength,
  isSnubbed,
  type QueueDepthOptions,
  queueDepth,
  type SnubInput,
} from './block-requests.js'
export {
  type AddTorrentOptions,
  Client,
  type ClientInit,
  createClient,
  type FetchMetadataOptions,
  type RemoveTorrentOptions,
} from './client.js'
export { type ConnectionBudget, createConnectionBudget, type ReleaseSlot } from './connection-budget.js'
export {
  DEFAULT_ENCRYPTION,
  ENCRYPTION_POLICIES,
  type EncryptionPolicy,
  isEncryptionPolicy,
} from './encryption-policy.js'
export {
  AllTrackersFailedError,
  DuplicateTorrentError,
  InvalidMetadataError,
  MetadataMessageError,
  PexMessageError,
  type PexMessageErrorReason,
  TorrentStoppedError,
  type TrackerFailure,
  UnsupportedTrackerError,
  WebSeedHttpError,
  WebSeedResponseError,
  type WebSeedResponseErrorReason,
  WebSeedUnavailableError,
} from './errors.js'
export {
  defaultFilePriorities,
  type FilePriority,
  PRIORITY_LEVEL,
  type WantedPieces,
  wantedPieces,
} from './file-priorities.js'
export {
  MetadataFetch,
  type MetadataFetchEvents,
  type MetadataFetchInit,
  type MetadataFetchResult,
  magnetPeerAddresses,
} from './metadata-fetch.js'
export { type PeerTransport, UTP_FIRST_CONNECT_TIMEOUT_MS } from './peer-dialer.js'
export { CLIENT_NAME, generatePeerId, PEER_ID_PREFIX } from './peer-id.js'
export { type PeerCandidate, PeerList, type PeerListInit, type PeerSource } from './peer-list.js'
export {
  decodePexMessage,
  encodePexMessage,
  MAX_PEX_PEERS_PER_MESSAGE,
  PeerExchange,
  type PeerExchangeInit,
  type PeerExchangeStats,
  type PexConnection,
  PexFlags,
  type PexMessage,
  type PexMessageInit,
  UT_PEX,
} from './pex.js'
export {
  type Block,
  type BlockReceipt,
  filePiecePriorities,
  MAX_PRIORITY,
  type PickPeer,
  PiecePicker,
  type PiecePickerInit,
} from './piece-picker.js'
export { RateMeter, type RateMeterInit } from './rate.js'
export { RateLimiter } from './rate-limiter.js'
export { type SeedLimits, type SeedState, seedLimitReached } from './seed-limits.js'
export { SmartBan, type SmartBanInit, type SmartBanVerdict } from './smart-ban.js'
export { createTicker, TICK_MS, type Ticker } from './ticker.js'
export {
  type FileProgress,
  Torrent,
  type TorrentEvents,
  type TorrentInit,
  type TorrentProgress,
} from './torrent.js'
export { type BackoffOptions, trackerRetryDelayMs } from './tracker-backoff.js'
export {
  type AnnounceEvent,
  type AnnounceRequest,
  createTrackerTransport,
  type TrackerAnnounce,
  type TrackerTransport,
  type TrackerTransportInit,
} from './tracker-transport.js'
export {
  decodeMetadataMessage,
  encodeMetadataMessage,
  MAX_METADATA_SIZE,
  METADATA_PIECE_SIZE,
  type MetadataMessage,
  metadataServer,
  UT_METADATA,
} from './ut-metadata.js'
export {
  createWebSeed,
  parseRetryAfter,
  planWebSeedRun,
  type WebSeed,
  type WebSeedInit,
  type WebSeedPlan,
  type WebSeedRange,
  type WebSeedState,
  webSeedFileUrl,
  webSeedRetryDelayMs,
} from './web-seed.js'

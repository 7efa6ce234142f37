export { crc32c, isBep42Exempt, isSecureNodeId, secureNodeId } from './bep42.js'
export { bloomEstimate } from './bloom-filter.js'
export {
  bootstrapRouters,
  createDht,
  DEFAULT_BOOTSTRAP,
  type Dht,
  type DhtAnnounceOptions,
  type DhtAnnounceResult,
  type DhtFindNodeResult,
  type DhtGetPeersResult,
  type DhtInit,
  type DhtLookupOptions,
  type DhtSocket,
  type DhtStats,
} from './dht.js'
export {
  DhtArgumentError,
  DhtBindError,
  DhtClosedError,
  DhtQueryTimeoutError,
  DhtRemoteError,
  DhtStateError,
} from './errors.js'
export {
  type DhtEvents,
  type DhtNodeInfo,
  type DhtWarning,
  type DhtWarningType,
  describeDhtWarning,
} from './events.js'
export type { LookupStats } from './lookup.js'
export { commonPrefixBits, xorDistance } from './node-id.js'
export type { PeerStoreInit } from './peer-store.js'
export { type DhtState, loadDhtState, saveDhtState } from './state.js'

export {
  type AuthBackoff,
  type AuthGuard,
  type AuthVerdict,
  basicCredentials,
  createAuthGuard,
  type RpcCredentials,
} from './auth.js'
export {
  RpcArgumentError,
  type RpcArgumentErrorReason,
  RpcFetchError,
  type RpcFetchErrorReason,
  RpcInsecureBindError,
} from './errors.js'
export { type FetchTorrentOptions, fetchTorrentFile } from './fetch-torrent.js'
export {
  decodeBase64,
  type HandledRequest,
  handleBody,
  type MethodContext,
  parseRequest,
  RECENTLY_ACTIVE_SECONDS,
  type RpcAnswer,
  type RpcRequest,
  selectTorrents,
  torrentChanges,
} from './methods.js'
export {
  createRpcServer,
  DEFAULT_RPC_HOST,
  DEFAULT_RPC_PORT,
  isLoopbackHost,
  type RpcServer,
  type RpcServerInit,
  SESSION_ID_HEADER,
} from './server.js'
export {
  type RpcAddRequest,
  type RpcAddResult,
  RpcErrorKind,
  type RpcFile,
  type RpcLimitMode,
  type RpcPeer,
  type RpcPriority,
  type RpcQueueMove,
  type RpcSession,
  type RpcSessionStats,
  type RpcSettings,
  RpcStatus,
  type RpcTorrent,
  type RpcTorrentChanges,
  type RpcTracker,
  type RpcTransferStats,
} from './session.js'
export {
  RPC_VERSION,
  RPC_VERSION_MINIMUM,
  SESSION_FIELDS,
  sessionChanges,
  sessionObject,
} from './session-fields.js'
export { percentDone, TORRENT_FIELD_NAMES, uploadRatio } from './torrent-fields.js'
export { DEFAULT_WEB_UI_DIR, webContentType, webFilePath } from './web-ui.js'

export { type AcceptedConnection, type AcceptInit, accept } from './accept.js'
export { type CryptoMethod, MAX_PADDING } from './crypto-method.js'
export {
  MseClosedError,
  MseEncryptionRefusedError,
  MseKeyError,
  MseMethodError,
  MsePaddingError,
  MsePlaintextRefusedError,
  MsePlaintextReplyError,
  MseSyncError,
  MseTimeoutError,
  MseUnknownTorrentError,
  MseVerificationError,
} from './errors.js'
export type { HandshakeOptions } from './handshake-guard.js'
export { type InitiateInit, initiate, type MseConnection } from './initiate.js'
export { req2Hash } from './mse-hashes.js'
export { createRc4, preferredRc4, type Rc4 } from './rc4.js'

export {
  type AcceptInit,
  type AcceptPeerOptions,
  acceptPeer,
  connectPeer,
  type ExtendedHandshakeMessage,
  type NamedExtendedMessage,
  type OpenPeerOptions,
  openPeer,
  ourHandshake,
  type PeerAddressLike,
  type PeerConnection,
  type PeerConnectionEvents,
  type PeerConnectionInit,
  type PeerConnectionOptions,
  type PeerMessage,
} from './connection.js'
export {
  DEFAULT_MAX_BLOCK_LENGTH,
  DEFAULT_MAX_EXTENDED_LENGTH,
  MAX_PIECE_COUNT,
  MessageDecoder,
  type MessageDecoderOptions,
} from './decoder.js'
export { encodedLength, encodeMessage, encodeMessageInto } from './encoder.js'
export {
  ExtensionNotSupportedError,
  HandshakeError,
  type HandshakeErrorReason,
  PeerConnectionError,
  PeerProtocolError,
  type PeerProtocolErrorReason,
  PeerTimeoutError,
  type PeerTimeoutPhase,
} from './errors.js'
export {
  decodeExtendedHandshake,
  type ExtendedHandshake,
  type ExtendedHandshakeInit,
  encodeExtendedHandshake,
} from './extended-handshake.js'
export { createExtensionRegistry, type ExtensionRegistry, type PeerExtension } from './extension-registry.js'
export {
  decodeHandshake,
  encodeHandshake,
  HANDSHAKE_LENGTH,
  type Handshake,
  type ReservedFeatures,
  readReserved,
  reservedBytes,
} from './handshake.js'
export type {
  AllowedFastMessage,
  BitfieldMessage,
  CancelMessage,
  ChokeMessage,
  ExtendedMessage,
  HaveAllMessage,
  HaveMessage,
  HaveNoneMessage,
  InterestedMessage,
  KeepAliveMessage,
  NotInterestedMessage,
  PieceMessage,
  PortMessage,
  RejectMessage,
  RequestMessage,
  SuggestMessage,
  UnchokeMessage,
  WireMessage,
  WireMessageType,
} from './messages.js'
export { MessageId } from './messages.js'

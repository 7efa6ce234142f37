// The messages of the peer wire protocol (BEP 3, BEP 6 fast extension, BEP 10 extension protocol) as
// one discriminated union: the decoder returns them, the encoder takes them, a connection emits them.

/** Message ids on the wire (the byte after the length prefix). */
export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 0x0d,
  haveAll: 0x0e,
  haveNone: 0x0f,
  reject: 0x10,
  allowedFast: 0x11,
  extended: 20,
} as const

export interface KeepAliveMessage {
  readonly type: 'keep-alive'
}
export interface ChokeMessage {
  readonly type: 'choke'
}
export interface UnchokeMessage {
  readonly type: 'unchoke'
}
export interface InterestedMessage {
  readonly type: 'interested'
}
export interface NotInterestedMessage {
  readonly type: 'not-interested'
}
export interface HaveMessage {
  readonly type: 'have'
  readonly index: number
}
export interface BitfieldMessage {
  readonly type: 'bitfield'
  /** The raw wire bitfield (BEP 3 bit order); check it with `Bitfield.fromBytes`. */
  readonly bitfield: Uint8Array
}
export interface RequestMessage {
  readonly type: 'request'
  readonly index: number
  readonly begin: number
  readonly length: number
}
export interface PieceMessage {
  readonly type: 'piece'
  readonly index: number
  readonly begin: number
  /**
   * The block. When decoded, a view into the received socket chunk if it sat in one, otherwise a copy:
   * copy it into its piece buffer rather than keeping it (a view keeps the whole chunk alive).
   */
  readonly block: Uint8Array
}
export interface CancelMessage {
  readonly type: 'cancel'
  readonly index: number
  readonly begin: number
  readonly length: number
}
/** BEP 5: the peer's DHT port. */
export interface PortMessage {
  readonly type: 'port'
  readonly port: number
}
/** BEP 6. */
export interface SuggestMessage {
  readonly type: 'suggest'
  readonly index: number
}
/** BEP 6. */
export interface HaveAllMessage {
  readonly type: 'have-all'
}
/** BEP 6. */
export interface HaveNoneMessage {
  readonly type: 'have-none'
}
/** BEP 6: the peer will not serve this request. */
export interface RejectMessage {
  readonly type: 'reject'
  readonly index: number
  readonly begin: number
  readonly length: number
}
/** BEP 6: the peer will serve this piece even while choking us. */
export interface AllowedFastMessage {
  readonly type: 'allowed-fast'
  readonly index: number
}
/** BEP 10: `id` 0 is the extended handshake, other ids name an extension (ours when received). */
export interface ExtendedMessage {
  readonly type: 'extended'
  readonly id: number
  readonly payload: Uint8Array
}

/** Every message the codec reads and writes. */
export type WireMessage =
  | KeepAliveMessage
  | ChokeMessage
  | UnchokeMessage
  | InterestedMessage
  | NotInterestedMessage
  | HaveMessage
  | BitfieldMessage
  | RequestMessage
  | PieceMessage
  | CancelMessage
  | PortMessage
  | SuggestMessage
  | HaveAllMessage
  | HaveNoneMessage
  | RejectMessage
  | AllowedFastMessage
  | ExtendedMessage

export type WireMessageType = WireMessage['type']

// Messages without fields are shared, frozen objects: decoding them allocates nothing.
export const KEEP_ALIVE: KeepAliveMessage = Object.freeze({ type: 'keep-alive' })
export const CHOKE: ChokeMessage = Object.freeze({ type: 'choke' })
export const UNCHOKE: UnchokeMessage = Object.freeze({ type: 'unchoke' })
export const INTERESTED: InterestedMessage = Object.freeze({ type: 'interested' })
export const NOT_INTERESTED: NotInterestedMessage = Object.freeze({ type: 'not-interested' })
export const HAVE_ALL: HaveAllMessage = Object.freeze({ type: 'have-all' })
export const HAVE_NONE: HaveNoneMessage = Object.freeze({ type: 'have-none' })

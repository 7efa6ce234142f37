// One class per way a peer connection fails. Callers match on `name` (it survives duplicated installs);
// every peer-caused failure is one of these, never a crash.

/** Why a peer's bytes were rejected. */
export type PeerProtocolErrorReason =
  /** A message id this implementation does not know. */
  | 'unknown-message'
  /** A length prefix that does not fit the message (wrong fixed size, or over the limit). */
  | 'invalid-length'
  /** A piece index at or past the torrent's piece count. */
  | 'invalid-index'
  /** A bitfield of the wrong size or with spare bits set. */
  | 'invalid-bitfield'
  /** A BEP 6 or BEP 10 message although that extension was not negotiated. */
  | 'not-negotiated'
  /** A message at a point where the protocol forbids it (a second bitfield, …). */
  | 'unexpected-message'
  /** An extended handshake that is not a bencoded dictionary. */
  | 'invalid-extended-handshake'

/** The peer broke the wire protocol; the connection is dropped. `messageId` is the offending message's id. */
export class PeerProtocolError extends Error {
  override readonly name = 'PeerProtocolError'
  readonly reason: PeerProtocolErrorReason
  /** The BEP 3/6/10 message id, or `undefined` when the id could not be read. */
  readonly messageId: number | undefined

  constructor(reason: PeerProtocolErrorReason, messageId: number | undefined, detail: string) {
    super(`peer-wire: ${detail}`)
    this.reason = reason
    this.messageId = messageId
  }
}

export type HandshakeErrorReason =
  /** The first 20 bytes are not `\x13BitTorrent protocol` (an encrypted or foreign stream). */
  | 'protocol'
  /** The peer answered for another torrent. */
  | 'info-hash'
  /** An incoming peer asked for a torrent we do not serve. */
  | 'unknown-torrent'
  /** The peer id is our own: we dialled ourselves. */
  | 'self-connection'
  /** The peer id is not the one the caller expected. */
  | 'peer-id'

/** The BitTorrent handshake failed; `infoHash` (hex) is the one the peer sent, when it got that far. */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError'
  readonly reason: HandshakeErrorReason
  readonly infoHash: string | undefined

  constructor(reason: HandshakeErrorReason, detail: string, infoHash?: string) {
    super(`peer-wire: handshake failed: ${detail}`)
    this.reason = reason
    this.infoHash = infoHash
  }
}

export type PeerTimeoutPhase = 'connect' | 'handshake' | 'idle' | 'drain'

/** Nothing happened in time: the TCP connect, the handshake, or the peer fell silent. */
export class PeerTimeoutError extends Error {
  override readonly name = 'PeerTimeoutError'
  readonly phase: PeerTimeoutPhase
  readonly timeoutMs: number

  constructor(phase: PeerTimeoutPhase, timeoutMs: number) {
    super(`peer-wire: ${phase} timed out after ${timeoutMs} ms`)
    this.phase = phase
    this.timeoutMs = timeoutMs
  }
}

/** The socket failed (refused, reset, …: see `cause`) or the peer closed it. */
export class PeerConnectionError extends Error {
  override readonly name = 'PeerConnectionError'
  /** True when the peer ended the connection cleanly (TCP FIN), false for a socket error. */
  readonly closedByPeer: boolean

  constructor(detail: string, options: { cause?: unknown; closedByPeer?: boolean } = {}) {
    super(`peer-wire: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.closedByPeer = options.closedByPeer ?? false
  }
}

/**
 * A send needs an extension the connection did not negotiate: `fast` (BEP 6), `extended` (BEP 10), or
 * a BEP 10 extension name the peer did not list in its `m` dictionary. A caller bug, not a peer fault.
 */
export class ExtensionNotSupportedError extends Error {
  override readonly name = 'ExtensionNotSupportedError'
  readonly extension: string

  constructor(extension: string) {
    super(`peer-wire: the peer connection does not support ${extension}`)
    this.extension = extension
  }
}

// One class per way an MSE handshake fails. Callers match on `name` (it survives duplicated installs);
// everything a peer can send ends in one of these, never in a crash.

/** The peer's public key is not a usable Diffie-Hellman value (0, 1, P-1 or not below P). */
export class MseKeyError extends Error {
  override readonly name = 'MseKeyError'

  constructor() {
    super('mse: the peer sent a degenerate Diffie-Hellman public key')
  }
}

/**
 * The synchronisation marker did not come within the spec's window: `req1` is `HASH('req1', S)` (the
 * receiver looks for it after PadA), `vc` is the encrypted verification constant (the initiator looks for it
 * after PadB). A peer that speaks something else, or pads more than 512 bytes, ends here.
 */
export class MseSyncError extends Error {
  override readonly name = 'MseSyncError'
  readonly marker: 'req1' | 'vc'
  /** How many bytes were searched. */
  readonly searched: number

  constructor(marker: 'req1' | 'vc', searched: number) {
    super(`mse: no ${marker === 'req1' ? "HASH('req1', S)" : 'verification constant'} in ${searched} bytes`)
    this.marker = marker
    this.searched = searched
  }
}

/**
 * The receiver answered our key with a plain BitTorrent handshake: it does not speak MSE (caught at
 * once, rather than after the VC search times out).
 */
export class MsePlaintextReplyError extends Error {
  override readonly name = 'MsePlaintextReplyError'

  constructor() {
    super('mse: the peer answered with a plain BitTorrent handshake')
  }
}

/** The decrypted verification constant is not 8 zero bytes: the peer used other keys (a wrong info hash). */
export class MseVerificationError extends Error {
  override readonly name = 'MseVerificationError'

  constructor() {
    super('mse: the verification constant did not decrypt to zeros')
  }
}

/** A padding length over the spec's 512 bytes (PadC or PadD). */
export class MsePaddingError extends Error {
  override readonly name = 'MsePaddingError'
  readonly length: number

  constructor(length: number) {
    super(`mse: padding of ${length} bytes (at most 512)`)
    this.length = length
  }
}

/** An incoming peer asked (by `HASH('req2', SKEY)`) for a torrent we do not have. */
export class MseUnknownTorrentError extends Error {
  override readonly name = 'MseUnknownTorrentError'

  constructor() {
    super('mse: the peer asked for a torrent we do not have')
  }
}

/**
 * No crypto method both sides allow: the receiver was offered none it accepts, or the initiator got a
 * `crypto_select` it did not offer. `provided`/`selected` are the raw bit fields (1 plaintext, 2 RC4).
 */
export class MseMethodError extends Error {
  override readonly name = 'MseMethodError'
  readonly provided: number
  readonly selected: number | undefined

  constructor(provided: number, selected?: number) {
    super(
      selected === undefined
        ? `mse: no acceptable crypto method in crypto_provide 0x${provided.toString(16)}`
        : `mse: crypto_select 0x${selected.toString(16)} is not one of 0x${provided.toString(16)} offered`,
    )
    this.provided = provided
    this.selected = selected
  }
}

/** An incoming plaintext BitTorrent handshake where our policy requires encryption. */
export class MsePlaintextRefusedError extends Error {
  override readonly name = 'MsePlaintextRefusedError'

  constructor() {
    super('mse: the peer sent a plaintext handshake and encryption is required')
  }
}

/** An incoming encrypted handshake where our policy allows plaintext only. */
export class MseEncryptionRefusedError extends Error {
  override readonly name = 'MseEncryptionRefusedError'

  constructor() {
    super('mse: the peer started an encrypted handshake and encryption is off')
  }
}

/** The stream ended, failed or was destroyed before the handshake completed. */
export class MseClosedError extends Error {
  override readonly name = 'MseClosedError'
  /** True when the peer ended the stream (rather than a socket error). */
  readonly closedByPeer: boolean

  constructor(detail: string, options: { cause?: unknown; closedByPeer?: boolean } = {}) {
    super(`mse: ${detail}`, options.cause === undefined ? {} : { cause: options.cause })
    this.closedByPeer = options.closedByPeer ?? false
  }
}

/** The handshake did not complete within `timeoutMs`. */
export class MseTimeoutError extends Error {
  override readonly name = 'MseTimeoutError'
  readonly timeoutMs: number

  constructor(timeoutMs: number) {
    super(`mse: the handshake did not complete within ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
  }
}

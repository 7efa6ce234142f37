// The initiator's side (A) of the handshake:
//   A→B  Ya, PadA
//   B→A  Yb, PadB
//   A→B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
//        ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//   B→A  ENCRYPT(VC, crypto_select, len(PadD), PadD), then the payload stream
// ENCRYPT is RC4 with keyA (A's direction) or keyB (B's), 1024 keystream bytes dropped first.
import type { Duplex } from 'node:stream'
import { type CryptoMethod, MAX_PADDING, methodBits, methodOf, randomPadding } from './crypto-method.js'
import { generateKeyPair, KEY_LENGTH, sharedSecret } from './diffie-hellman.js'
import { EncryptedStream } from './encrypted-stream.js'
import {
  MseKeyError,
  MseMethodError,
  MsePaddingError,
  MsePlaintextReplyError,
  MseSyncError,
} from './errors.js'
import { guardHandshake, type HandshakeOptions } from './handshake-guard.js'
import { mseKeystream, req1Hash, req2Hash, req3Hash, xor } from './mse-hashes.js'
import { startsPlaintextHandshake } from './plaintext-handshake.js'
import { plaintextStream } from './plaintext-stream.js'

const VC_LENGTH = 8

export interface InitiateInit {
  /** The torrent's 20-byte info hash (SKEY): the receiver must have it. */
  infoHash: Uint8Array
  /** What `crypto_provide` offers. Default `['rc4']`. */
  methods?: readonly CryptoMethod[]
  /**
   * Sent (RC4-encrypted) within the handshake, saving a round trip: usually our BitTorrent handshake.
   * At most 65535 bytes by the spec; libtorrent hangs up on more than 68, so send the handshake alone.
   */
  initialPayload?: Uint8Array
}

export interface MseConnection {
  /** The payload stream: an RC4 Duplex over the socket, or the socket itself after a plaintext select. */
  stream: Duplex
  /** What `crypto_select` chose. */
  method: CryptoMethod
}

/**
 * Runs the initiator's side on a connected `socket` and resolves with the stream to speak BitTorrent
 * over (the initial payload is sent already). Rejects with one of the `Mse*Error`s, the socket destroyed.
 */
export async function initiate(
  socket: Duplex,
  init: InitiateInit,
  options: HandshakeOptions = {},
): Promise<MseConnection> {
  const { infoHash } = init
  const payload = init.initialPayload ?? new Uint8Array(0)
  if (!(infoHash instanceof Uint8Array) || infoHash.length !== 20) {
    throw new TypeError('mse: infoHash must be 20 bytes')
  }
  if (payload.length > 0xffff) throw new RangeError('mse: the initial payload is at most 65535 bytes')
  const provide = methodBits(init.methods ?? ['rc4'])
  if (provide === 0) throw new RangeError('mse: offer at least one crypto method')

  return guardHandshake(socket, options, async (reader) => {
    const keys = generateKeyPair()
    socket.write(Buffer.concat([keys.publicKey, randomPadding()]))
    if (await startsPlaintextHandshake(reader)) throw new MsePlaintextReplyError()
    const secret = sharedSecret(keys, await reader.read(KEY_LENGTH))
    if (secret === undefined) throw new MseKeyError()

    const encrypt = mseKeystream('keyA', secret, infoHash)
    const decrypt = mseKeystream('keyB', secret, infoHash)
    // VC (zeros), crypto_provide, len(PadC) = 0, len(IA), IA.
    const sealed = Buffer.alloc(VC_LENGTH + 4 + 2 + 2 + payload.length)
    sealed.writeUInt32BE(provide, VC_LENGTH)
    sealed.writeUInt16BE(payload.length, VC_LENGTH + 6)
    sealed.set(payload, VC_LENGTH + 8)
    encrypt.update(sealed)
    socket.write(Buffer.concat([req1Hash(secret), xor(req2Hash(infoHash), req3Hash(secret)), sealed]))

    // B's reply starts with ENCRYPT(VC) after PadB, whose length we cannot know: find it.
    const vc = new Uint8Array(VC_LENGTH)
    decrypt.update(vc)
    const window = MAX_PADDING + VC_LENGTH
    if ((await reader.skipPast(vc, window)) === undefined) throw new MseSyncError('vc', window)
    const head = Buffer.from(await reader.read(6))
    decrypt.update(head)
    const selected = head.readUInt32BE(0)
    const padLength = head.readUInt16BE(4)
    const method = methodOf(selected)
    if (method === undefined || (selected & provide) === 0) throw new MseMethodError(provide, selected)
    if (padLength > MAX_PADDING) throw new MsePaddingError(padLength)
    if (padLength > 0) decrypt.update(Buffer.from(await reader.read(padLength)))

    const rest = reader.detach()
    const stream =
      method === 'rc4'
        ? new EncryptedStream({ socket, decrypt, encrypt, rest })
        : plaintextStream(socket, rest)
    return { stream, method }
  })
}

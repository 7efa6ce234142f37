// The receiver's side (B): tell a plain BitTorrent handshake from MSE by its first 20 bytes, else
//   A→B  Ya, PadA                         B→A  Yb, PadB
//   A→B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S), ENCRYPT(VC, crypto_provide, len(PadC),
//        PadC, len(IA), IA)
//   B→A  ENCRYPT(VC, crypto_select, len(PadD), PadD)
// SKEY is found by recovering HASH('req2', SKEY) and asking the caller which of its torrents has it.
import type { Duplex } from 'node:stream'
import {
  type CryptoMethod,
  MAX_PADDING,
  methodBits,
  PLAINTEXT_BIT,
  RC4_BIT,
  randomPadding,
} from './crypto-method.js'
import { generateKeyPair, KEY_LENGTH, sharedSecret } from './diffie-hellman.js'
import { EncryptedStream } from './encrypted-stream.js'
import {
  MseEncryptionRefusedError,
  MseKeyError,
  MseMethodError,
  MsePaddingError,
  MsePlaintextRefusedError,
  MseSyncError,
  MseUnknownTorrentError,
  MseVerificationError,
} from './errors.js'
import { guardHandshake, type HandshakeOptions } from './handshake-guard.js'
import { mseKeystream, req1Hash, req3Hash, xor } from './mse-hashes.js'
import { startsPlaintextHandshake } from './plaintext-handshake.js'
import { plaintextStream } from './plaintext-stream.js'

const HASH_LENGTH = 20

export interface AcceptInit {
  /**
   * Which of our torrents has `HASH('req2', infoHash)` equal to `req2` (see `req2Hash`): its 20-byte info
   * hash, or `undefined` to refuse the peer.
   */
  findInfoHash(req2: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>
  /**
   * The methods we select from the peer's `crypto_provide`, best first. Default `['rc4', 'plaintext']`;
   * empty refuses every encrypted handshake.
   */
  methods?: readonly CryptoMethod[]
  /** Take plain BitTorrent handshakes too. Default true. */
  allowPlaintext?: boolean
}

export type AcceptedConnection =
  /** A plain BitTorrent handshake: `stream` is the socket, its bytes not consumed. */
  | { protocol: 'bittorrent'; stream: Duplex }
  /**
   * An MSE handshake for `infoHash`: `stream` starts with the initiator's initial payload (usually its
   * BitTorrent handshake), then whatever follows.
   */
  | { protocol: 'mse'; stream: Duplex; method: CryptoMethod; infoHash: Uint8Array }

/**
 * Runs the receiving side on an incoming `socket`. Rejects with one of the `Mse*Error`s (or the signal's
 * reason), the socket destroyed.
 */
export async function accept(
  socket: Duplex,
  init: AcceptInit,
  options: HandshakeOptions = {},
): Promise<AcceptedConnection> {
  const preference = init.methods ?? ['rc4', 'plaintext']
  const allowPlaintext = init.allowPlaintext ?? true

  return guardHandshake(socket, options, async (reader): Promise<AcceptedConnection> => {
    if (await startsPlaintextHandshake(reader)) {
      if (!allowPlaintext) throw new MsePlaintextRefusedError()
      return { protocol: 'bittorrent', stream: plaintextStream(socket, reader.detach()) }
    }
    if (preference.length === 0) throw new MseEncryptionRefusedError()

    const keys = generateKeyPair()
    const secret = sharedSecret(keys, await reader.read(KEY_LENGTH))
    if (secret === undefined) throw new MseKeyError()
    socket.write(Buffer.concat([keys.publicKey, randomPadding()]))

    // PadA is 0–512 bytes of noise: HASH('req1', S) must end within 512 + 20 bytes of Ya.
    const window = MAX_PADDING + HASH_LENGTH
    if ((await reader.skipPast(req1Hash(secret), window)) === undefined)
      throw new MseSyncError('req1', window)
    const obfuscated = await reader.read(HASH_LENGTH)
    const req2 = xor(obfuscated, req3Hash(secret))
    const infoHash = await reader.wait(Promise.resolve().then(() => init.findInfoHash(req2)))
    if (infoHash === undefined) throw new MseUnknownTorrentError()
    if (!(infoHash instanceof Uint8Array) || infoHash.length !== 20) {
      throw new TypeError('mse: findInfoHash must return a 20-byte info hash')
    }

    const decrypt = mseKeystream('keyA', secret, infoHash)
    const encrypt = mseKeystream('keyB', secret, infoHash)
    const fixed = Buffer.from(await reader.read(8 + 4 + 2))
    decrypt.update(fixed)
    for (let i = 0; i < 8; i++) if (fixed[i] !== 0) throw new MseVerificationError()
    const provided = fixed.readUInt32BE(8)
    const padLength = fixed.readUInt16BE(12)
    if (padLength > MAX_PADDING) throw new MsePaddingError(padLength)
    if (padLength > 0) decrypt.update(Buffer.from(await reader.read(padLength)))
    const lengthField = Buffer.from(await reader.read(2))
    decrypt.update(lengthField)
    const initialPayload = Buffer.from(await reader.read(lengthField.readUInt16BE(0)))
    decrypt.update(initialPayload)

    const method = preference.find((m) => (provided & (m === 'rc4' ? RC4_BIT : PLAINTEXT_BIT)) !== 0)
    if (method === undefined) throw new MseMethodError(provided)
    // VC, crypto_select, len(PadD) = 0.
    const reply = Buffer.alloc(8 + 4 + 2)
    reply.writeUInt32BE(methodBits([method]), 8)
    encrypt.update(reply)
    socket.write(reply)

    const rest = reader.detach()
    const stream =
      method === 'rc4'
        ? new EncryptedStream({ socket, decrypt, encrypt, head: initialPayload, rest })
        : plaintextStream(socket, initialPayload, rest)
    return { protocol: 'mse', stream, method, infoHash }
  })
}

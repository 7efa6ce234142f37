// A hand-driven MSE peer for hostile tests: it computes the real keys from our public key, so each test
// breaks exactly one thing (too much padding, a wrong VC, an unoffered method…) and nothing else.
import type { Socket } from 'node:net'
import { generateKeyPair, type KeyPair, sharedSecret } from '../src/diffie-hellman.js'
import { mseKeystream, req1Hash, req2Hash, req3Hash, xor } from '../src/mse-hashes.js'
import type { Rc4 } from '../src/rc4.js'
import { readBytes } from './socket-pair.js'

export class RawPeer {
  readonly keys: KeyPair = generateKeyPair()
  secret: Uint8Array | undefined

  constructor(readonly socket: Socket) {}

  /** Reads the other side's 96-byte key (its padding stays unread) and derives S. */
  async readKey(): Promise<Uint8Array> {
    const key = await readBytes(this.socket, 96)
    const secret = sharedSecret(this.keys, key)
    if (!secret) throw new Error('degenerate key')
    this.secret = secret
    return secret
  }

  sendKey(padding = 0): void {
    this.socket.write(Buffer.concat([this.keys.publicKey, Buffer.alloc(padding, 0xaa)]))
  }

  cipher(side: 'keyA' | 'keyB', infoHash: Uint8Array): Rc4 {
    return mseKeystream(side, this.secret!, infoHash)
  }

  /** The initiator's third message, with every field the test's to choose. */
  sendStep3(
    infoHash: Uint8Array,
    fields: { vc?: Buffer; provide?: number; padC?: number; ia?: Buffer; req1?: Uint8Array } = {},
  ): Rc4 {
    const secret = this.secret!
    const encrypt = this.cipher('keyA', infoHash)
    const padC = fields.padC ?? 0
    const ia = fields.ia ?? Buffer.alloc(0)
    const sealed = Buffer.alloc(8 + 4 + 2 + Math.min(padC, 2000) + 2 + ia.length)
    ;(fields.vc ?? Buffer.alloc(8)).copy(sealed, 0)
    sealed.writeUInt32BE(fields.provide ?? 2, 8)
    sealed.writeUInt16BE(padC, 12)
    const at = 14 + Math.min(padC, 2000)
    sealed.writeUInt16BE(ia.length, at)
    ia.copy(sealed, at + 2)
    encrypt.update(sealed)
    this.socket.write(
      Buffer.concat([fields.req1 ?? req1Hash(secret), xor(req2Hash(infoHash), req3Hash(secret)), sealed]),
    )
    return encrypt
  }

  /** The receiver's fourth message: ENCRYPT(VC, crypto_select, len(PadD), PadD), then `after`. */
  sendStep4(infoHash: Uint8Array, fields: { select?: number; padD?: number; after?: Buffer } = {}): Rc4 {
    const encrypt = this.cipher('keyB', infoHash)
    const padD = fields.padD ?? 0
    const reply = Buffer.alloc(8 + 4 + 2 + Math.min(padD, 2000) + (fields.after?.length ?? 0))
    reply.writeUInt32BE(fields.select ?? 2, 8)
    reply.writeUInt16BE(padD, 12)
    fields.after?.copy(reply, 14 + Math.min(padD, 2000))
    encrypt.update(reply)
    this.socket.write(reply)
    return encrypt
  }
}

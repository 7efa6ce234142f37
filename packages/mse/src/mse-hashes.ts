// The SHA-1 values of the MSE handshake: the receiver's sync marker, the obfuscated info hash, and the two
// RC4 keystreams (keyA encrypts what the initiator sends, keyB what the receiver sends).
import { createHash } from 'node:crypto'
import { createRc4, type Rc4 } from './rc4.js'

/** Keystream bytes thrown away before use, against RC4's biased first bytes. */
const RC4_DROP = 1024

function sha1(...parts: (string | Uint8Array)[]): Uint8Array {
  const hash = createHash('sha1')
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

/** `HASH('req1', S)`: where the initiator's encrypted part begins. */
export function req1Hash(secret: Uint8Array): Uint8Array {
  return sha1('req1', secret)
}

/**
 * `HASH('req2', SKEY)`, SKEY being a torrent's 20-byte info hash: what the receiver recovers from the
 * initiator's `HASH('req2', SKEY) xor HASH('req3', S)` and looks up among its torrents.
 */
export function req2Hash(infoHash: Uint8Array): Uint8Array {
  return sha1('req2', infoHash)
}

export function req3Hash(secret: Uint8Array): Uint8Array {
  return sha1('req3', secret)
}

export function rc4Key(side: 'keyA' | 'keyB', secret: Uint8Array, infoHash: Uint8Array): Uint8Array {
  return sha1(side, secret, infoHash)
}

/** RC4 keyed with `HASH(side, S, SKEY)`, its first 1024 bytes dropped. */
export function mseKeystream(side: 'keyA' | 'keyB', secret: Uint8Array, infoHash: Uint8Array): Rc4 {
  return createRc4(rc4Key(side, secret, infoHash), RC4_DROP)
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

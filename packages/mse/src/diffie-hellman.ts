// MSE's Diffie-Hellman: the 768-bit prime of RFC 2409's first Oakley group, generator 2, 160-bit private
// keys, public keys and the shared secret S as 96 big-endian bytes. BigInt, because Node's DiffieHellman
// spends ~14 ms per key here checking the prime, BigInt ~0.2 ms.
import { randomBytes } from 'node:crypto'

export const KEY_LENGTH = 96

const P = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
)
const G = 2n

export interface KeyPair {
  readonly privateKey: bigint
  /** 96 bytes. */
  readonly publicKey: Uint8Array
}

export function generateKeyPair(): KeyPair {
  const privateKey = toBigInt(randomBytes(20))
  return { privateKey, publicKey: toBytes(modPow(G, privateKey, P)) }
}

/**
 * S from the peer's 96-byte public key, or `undefined` for a value that would make S predictable (0, 1,
 * P-1 or anything not below P).
 */
export function sharedSecret(keys: KeyPair, peerPublicKey: Uint8Array): Uint8Array | undefined {
  const y = toBigInt(peerPublicKey)
  if (y <= 1n || y >= P - 1n) return undefined
  return toBytes(modPow(y, keys.privateKey, P))
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n
  let b = base % modulus
  let e = exponent
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus
    b = (b * b) % modulus
    e >>= 1n
  }
  return result
}

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex') || '0'}`)
}

/** Big-endian, left-padded with zeros to 96 bytes (the spec's fixed width). */
function toBytes(value: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(value.toString(16).padStart(KEY_LENGTH * 2, '0'), 'hex'))
}

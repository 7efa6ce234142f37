// RC4 as MSE uses it: OpenSSL's when this Node offers it (OpenSSL 3 keeps RC4 in the legacy provider, so
// usually it does not), else our own, which works on 32-bit words where it can.
import { createCipheriv, getCiphers } from 'node:crypto'
import { endianness } from 'node:os'

/** An RC4 keystream: each call continues where the last one stopped. */
export interface Rc4 {
  /** XORs the keystream into `data` in place. */
  update(data: Uint8Array): void
  /** Which implementation runs. */
  readonly implementation: 'openssl' | 'typescript'
}

/** Creates an RC4 keystream for `key` (MSE: 20 bytes), with the first `drop` bytes discarded. */
export function createRc4(key: Uint8Array, drop = 0, implementation = preferredRc4()): Rc4 {
  const rc4 = implementation === 'openssl' ? new OpensslRc4(key) : new TypescriptRc4(key)
  if (drop > 0) rc4.update(new Uint8Array(drop))
  return rc4
}

let preferred: 'openssl' | 'typescript' | undefined

/** OpenSSL's RC4 if it is offered and produces the RFC 6229 keystream, else ours. Checked once. */
export function preferredRc4(): 'openssl' | 'typescript' {
  preferred ??= opensslRc4Works() ? 'openssl' : 'typescript'
  return preferred
}

function opensslRc4Works(): boolean {
  if (!getCiphers().includes('rc4')) return false
  try {
    // RFC 6229, key 0x0102030405: the keystream starts b2 39 63 05.
    const probe = new OpensslRc4(Uint8Array.of(1, 2, 3, 4, 5))
    const out = new Uint8Array(4)
    probe.update(out)
    return out[0] === 0xb2 && out[1] === 0x39 && out[2] === 0x63 && out[3] === 0x05
  } catch {
    return false
  }
}

class OpensslRc4 implements Rc4 {
  readonly implementation = 'openssl'
  private readonly cipher

  constructor(key: Uint8Array) {
    this.cipher = createCipheriv('rc4', key, null)
  }

  update(data: Uint8Array): void {
    const out = this.cipher.update(data)
    data.set(out)
  }
}

// Words are assembled low byte first, which is the memory order only on little-endian machines.
const LITTLE_ENDIAN = endianness() === 'LE'

class TypescriptRc4 implements Rc4 {
  readonly implementation = 'typescript'
  // Int32Array: V8 keeps it unboxed in the hot loop, measurably faster than Uint8Array here.
  private readonly s = new Int32Array(256)
  private i = 0
  private j = 0

  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError('mse: an RC4 key is 1 to 256 bytes')
    const s = this.s
    for (let i = 0; i < 256; i++) s[i] = i
    let j = 0
    for (let i = 0; i < 256; i++) {
      const si = s[i]!
      j = (j + si + key[i % key.length]!) & 255
      s[i] = s[j]!
      s[j] = si
    }
  }

  update(data: Uint8Array): void {
    const s = this.s
    let i = this.i
    let j = this.j
    const length = data.length
    let at = 0
    // Unaligned head byte by byte, then four keystream bytes per 32-bit XOR.
    const head = LITTLE_ENDIAN ? Math.min(length, (4 - (data.byteOffset & 3)) & 3) : length
    for (; at < head; at++) {
      i = (i + 1) & 255
      const si = s[i]!
      j = (j + si) & 255
      const sj = s[j]!
      s[i] = sj
      s[j] = si
      data[at] = data[at]! ^ s[(si + sj) & 255]!
    }
    const words = (length - at) >> 2
    if (words > 0) {
      const view = new Int32Array(data.buffer, data.byteOffset + at, words)
      for (let w = 0; w < words; w++) {
        i = (i + 1) & 255
        let si = s[i]!
        j = (j + si) & 255
        let sj = s[j]!
        s[i] = sj
        s[j] = si
        let key = s[(si + sj) & 255]!
        i = (i + 1) & 255
        si = s[i]!
        j = (j + si) & 255
        sj = s[j]!
        s[i] = sj
        s[j] = si
        key |= s[(si + sj) & 255]! << 8
        i = (i + 1) & 255
        si = s[i]!
        j = (j + si) & 255
        sj = s[j]!
        s[i] = sj
        s[j] = si
        key |= s[(si + sj) & 255]! << 16
        i = (i + 1) & 255
        si = s[i]!
        j = (j + si) & 255
        sj = s[j]!
        s[i] = sj
        s[j] = si
        key |= s[(si + sj) & 255]! << 24
        view[w] = view[w]! ^ key
      }
      at += words << 2
    }
    for (; at < length; at++) {
      i = (i + 1) & 255
      const si = s[i]!
      j = (j + si) & 255
      const sj = s[j]!
      s[i] = sj
      s[j] = si
      data[at] = data[at]! ^ s[(si + sj) & 255]!
    }
    this.i = i
    this.j = j
  }
}

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRc4, preferredRc4 } from './rc4.js'

function encrypt(key: string, text: string, implementation: 'openssl' | 'typescript'): string {
  const data = Buffer.from(text, 'latin1')
  createRc4(Buffer.from(key, 'latin1'), 0, implementation).update(data)
  return data.toString('hex')
}

const implementations =
  preferredRc4() === 'openssl' ? (['typescript', 'openssl'] as const) : (['typescript'] as const)

describe('RC4', () => {
  for (const implementation of implementations) {
    it(`${implementation}: the published test vectors`, () => {
      expect(encrypt('Key', 'Plaintext', implementation)).toBe('bbf316e8d940af0ad3')
      expect(encrypt('Wiki', 'pedia', implementation)).toBe('1021bf0420')
      expect(encrypt('Secret', 'Attack at dawn', implementation)).toBe('45a01f645fc35b383552544b9bf5')
    })
  }

  it('RFC 6229 (key 0x0102030405): the keystream at offsets 0 and 1024, as `openssl enc -rc4-40` gives it', () => {
    const key = Uint8Array.of(1, 2, 3, 4, 5)
    const start = new Uint8Array(16)
    createRc4(key, 0, 'typescript').update(start)
    expect(Buffer.from(start).toString('hex')).toBe('b2396305f03dc027ccc3524a0a1118a8')
    const after = new Uint8Array(16)
    createRc4(key, 1024, 'typescript').update(after)
    expect(Buffer.from(after).toString('hex')).toBe('30abbcc7c20b01609f23ee2d5f6bb7df')
  })

  it('gives the same keystream however the data is split and aligned', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(40), { maxLength: 10 }),
        fc.nat(7),
        (key, data, cuts, offset) => {
          const whole = Buffer.from(data)
          createRc4(key, 0, 'typescript').update(whole)
          // The same bytes at an odd offset inside a larger buffer, fed in pieces.
          const backing = new Uint8Array(data.length + offset)
          const pieces = backing.subarray(offset)
          pieces.set(data)
          const rc4 = createRc4(key, 0, 'typescript')
          let at = 0
          for (const cut of cuts) {
            const end = Math.min(data.length, at + cut)
            rc4.update(pieces.subarray(at, end))
            at = end
          }
          rc4.update(pieces.subarray(at))
          expect(Buffer.from(pieces).equals(whole)).toBe(true)
        },
      ),
    )
  })
})

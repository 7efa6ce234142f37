// What each encryption policy means on the wire, as libtorrent's pe_forced / pe_enabled / pe_disabled do:
//   prefer   dial MSE offering RC4 and plaintext, fall back to a plain handshake if the peer hangs up on
//            it (remembered per peer); accept plain and MSE handshakes.
//   require  dial MSE offering RC4 only, never plain; accept MSE with RC4 only.
//   allow    dial plain; accept plain and MSE handshakes.
//   off      dial plain; accept plain handshakes only.
// A receiver offered both methods selects plaintext (libtorrent's default, `prefer_rc4` off): the
// handshake is obfuscated either way, and RC4 costs a CPU per few hundred MB/s.
import type { CryptoMethod } from '@bt/mse'

export type EncryptionPolicy = 'prefer' | 'require' | 'allow' | 'off'

export const ENCRYPTION_POLICIES: readonly EncryptionPolicy[] = ['prefer', 'require', 'allow', 'off']

export const DEFAULT_ENCRYPTION: EncryptionPolicy = 'prefer'

/** What we offer when dialling with MSE; `undefined` for a plain BitTorrent handshake. */
export function outgoingMethods(policy: EncryptionPolicy): CryptoMethod[] | undefined {
  switch (policy) {
    case 'prefer':
      return ['rc4', 'plaintext']
    case 'require':
      return ['rc4']
    case 'allow':
    case 'off':
      return undefined
  }
}

/** Whether a failed MSE dial is retried at once with a plain handshake. */
export function fallsBackToPlaintext(policy: EncryptionPolicy): boolean {
  return policy === 'prefer'
}

/** What an incoming peer may use: plain handshakes, and the methods we select from an MSE offer. */
export function incomingRules(policy: EncryptionPolicy): {
  allowPlaintext: boolean
  methods: CryptoMethod[]
} {
  switch (policy) {
    case 'prefer':
    case 'allow':
      return { allowPlaintext: true, methods: ['plaintext', 'rc4'] }
    case 'require':
      return { allowPlaintext: false, methods: ['rc4'] }
    case 'off':
      return { allowPlaintext: true, methods: [] }
  }
}

export function isEncryptionPolicy(value: string): value is EncryptionPolicy {
  return (ENCRYPTION_POLICIES as readonly string[]).includes(value)
}

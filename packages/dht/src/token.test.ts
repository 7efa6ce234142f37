import { describe, expect, it } from 'vitest'
import { createTokenIssuer, TOKEN_ROTATION_MS } from './token.js'

describe('write tokens', () => {
  it('accepts its own token for the same IP only', () => {
    const issuer = createTokenIssuer()
    const token = issuer.issue('1.2.3.4')
    expect(issuer.verify('1.2.3.4', token)).toBe(true)
    expect(issuer.verify('1.2.3.5', token)).toBe(false)
    expect(issuer.verify('1.2.3.4', token.subarray(1))).toBe(false)
  })

  it('keeps accepting a token for one rotation, not two', () => {
    let now = 0
    const issuer = createTokenIssuer({ now: () => now })
    const token = issuer.issue('::1')
    now += TOKEN_ROTATION_MS - 1
    expect(issuer.verify('::1', token)).toBe(true)
    now += 1
    expect(issuer.verify('::1', token)).toBe(true)
    const second = issuer.issue('::1')
    expect(second).not.toEqual(token)
    now += TOKEN_ROTATION_MS
    expect(issuer.verify('::1', token)).toBe(false)
    expect(issuer.verify('::1', second)).toBe(true)
  })

  it('forgets both secrets after two idle periods', () => {
    let now = 0
    const issuer = createTokenIssuer({ now: () => now })
    const token = issuer.issue('1.2.3.4')
    now += 2 * TOKEN_ROTATION_MS
    expect(issuer.verify('1.2.3.4', token)).toBe(false)
  })
})

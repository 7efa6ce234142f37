import { describe, expect, it } from 'vitest'
import { basicCredentials, createAuthGuard } from './auth.js'

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`

describe('auth guard', () => {
  it('accepts the right credentials and denies others', () => {
    const guard = createAuthGuard({ username: 'u', password: 'p' })
    expect(guard.check(basic('u:p'), 'a', 0)).toEqual({ kind: 'ok' })
    expect(guard.check(basic('u:q'), 'a', 0)).toEqual({ kind: 'denied' })
    expect(guard.check(undefined, 'a', 0)).toEqual({ kind: 'denied' })
    expect(guard.check('Bearer x', 'a', 0)).toEqual({ kind: 'denied' })
  })

  it('locks an address out after repeated failures, whatever it then sends, until the lock-out ends', () => {
    const guard = createAuthGuard(
      { username: 'u', password: 'p' },
      { maxFailures: 3, windowMs: 1000, lockoutMs: 5000 },
    )
    for (let i = 0; i < 3; i++) expect(guard.check(basic('u:x'), 'a', i).kind).toBe('denied')
    expect(guard.check(basic('u:p'), 'a', 10)).toEqual({ kind: 'locked', retryAfterSeconds: 5 })
    expect(guard.check(basic('u:p'), 'b', 10)).toEqual({ kind: 'ok' })
    expect(guard.check(basic('u:p'), 'a', 5003)).toEqual({ kind: 'ok' })
  })

  it('forgets failures outside the window and after a success', () => {
    const guard = createAuthGuard(
      { username: 'u', password: 'p' },
      { maxFailures: 2, windowMs: 100, lockoutMs: 5000 },
    )
    guard.check(basic('u:x'), 'a', 0)
    expect(guard.check(basic('u:x'), 'a', 200).kind).toBe('denied')
    guard.check(basic('u:p'), 'a', 201)
    expect(guard.check(basic('u:x'), 'a', 202).kind).toBe('denied')
    expect(guard.check(basic('u:p'), 'a', 203).kind).toBe('ok')
  })

  it('parses Basic credentials', () => {
    expect(basicCredentials(basic('user:pa:ss'))).toBe('user:pa:ss')
    expect(basicCredentials(basic('nocolon'))).toBeUndefined()
    expect(basicCredentials('Basic !!!')).toBeUndefined()
  })
})

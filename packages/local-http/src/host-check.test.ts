import { describe, expect, it } from 'vitest'
import { createHostCheck, hostName } from './host-check.js'

describe('hostName', () => {
  it.each([
    ['localhost', 'localhost'],
    ['LocalHost:8080', 'localhost'],
    ['127.0.0.1:1', '127.0.0.1'],
    ['[::1]', '::1'],
    ['[::1]:65535', '::1'],
  ])('%s → %s', (host, name) => {
    expect(hostName(host)).toBe(name)
  })

  it.each([
    [''],
    [':80'],
    ['[::1'],
    ['[nope]:80'],
    ['::1'],
    ['a:b'],
    ['host:80:80'],
    ['host:123456'],
    ['[::1]x'],
  ])('rejects %j', (host) => {
    expect(hostName(host)).toBeUndefined()
  })
})

describe('createHostCheck', () => {
  it('allows the bound address, localhost, 127.0.0.1 and [::1], with any port or none', () => {
    const check = createHostCheck('127.0.0.5')
    for (const host of [
      '127.0.0.5',
      '127.0.0.5:9000',
      'localhost',
      'localhost:1',
      '127.0.0.1:80',
      '[::1]:8080',
    ]) {
      expect(check.allows(host), host).toBe(true)
    }
  })

  it('refuses other names (DNS rebinding), other addresses, a malformed or a missing Host', () => {
    const check = createHostCheck('127.0.0.1')
    for (const host of [
      'evil.example',
      'evil.example:8080',
      'localhost.evil.example',
      '127.0.0.2',
      '[::2]',
      'a b',
      '',
    ]) {
      expect(check.allows(host), host).toBe(false)
    }
    expect(check.allows(undefined)).toBe(false)
  })

  it('allows the names in allowedHosts, case-insensitively, bracketed IPv6 too', () => {
    const check = createHostCheck('127.0.0.1', ['Media.Lan', '[fd00::1]'])
    expect(check.allows('media.lan:8888')).toBe(true)
    expect(check.allows('[fd00::1]:80')).toBe(true)
    expect(check.allows('other.lan')).toBe(false)
  })

  it('on a wildcard address allows any IP literal (no name can be rebound to it) but still no other name', () => {
    const check = createHostCheck('0.0.0.0')
    expect(check.allows('192.168.1.20:8888')).toBe(true)
    expect(check.allows('[fe80::1]:8888')).toBe(true)
    expect(check.allows('evil.example:8888')).toBe(false)
  })
})

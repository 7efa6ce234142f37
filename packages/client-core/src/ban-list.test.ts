import { describe, expect, it, vi } from 'vitest'
import { BanList } from './ban-list.js'

describe('BanList', () => {
  it('bans an IP address whatever the port and its IPv4-mapped form', () => {
    const bans = new BanList()
    const banned = vi.fn()
    bans.on('banned', banned)
    expect(bans.ban('127.0.0.9')).toBe(true)
    expect(bans.ban('::ffff:127.0.0.9')).toBe(false)
    expect(bans.isBanned('::ffff:127.0.0.9')).toBe(true)
    expect(bans.isBanned('127.0.0.2')).toBe(false)
    expect(banned).toHaveBeenCalledTimes(1)
    expect(banned).toHaveBeenCalledWith('127.0.0.9')
  })

  it('treats the spellings of one IPv6 address as one', () => {
    const bans = new BanList()
    bans.ban('2001:DB8:0:0::1')
    expect(bans.isBanned('2001:db8::1')).toBe(true)
  })

  it('lets a ban expire', () => {
    let now = 0
    const bans = new BanList({ banMs: 1000, now: () => now })
    bans.ban('10.0.0.1')
    now = 999
    expect(bans.isBanned('10.0.0.1')).toBe(true)
    now = 1000
    expect(bans.isBanned('10.0.0.1')).toBe(false)
    expect(bans.size).toBe(0)
    expect(bans.ban('10.0.0.1')).toBe(true)
  })

  it('keeps at most maxEntries bans, forgetting the oldest', () => {
    const bans = new BanList({ maxEntries: 2 })
    bans.ban('10.0.0.1')
    bans.ban('10.0.0.2')
    bans.ban('10.0.0.3')
    expect(bans.size).toBe(2)
    expect(bans.isBanned('10.0.0.1')).toBe(false)
    expect(bans.isBanned('10.0.0.3')).toBe(true)
  })

  it('ignores what is not an IP address', () => {
    const bans = new BanList()
    expect(bans.ban('example.com')).toBe(false)
    expect(bans.isBanned('example.com')).toBe(false)
  })
})

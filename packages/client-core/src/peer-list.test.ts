import { describe, expect, it } from 'vitest'
import { BanList } from './ban-list.js'
import { PeerList } from './peer-list.js'

const a = { host: '127.0.0.1', port: 1001 }
const b = { host: '127.0.0.1', port: 1002 }
const c = { host: '127.0.0.3', port: 1003 }

describe('PeerList', () => {
  it('keys peers by host and port, so loopback peers stay distinct', () => {
    const list = new PeerList()
    list.add(a, 'tracker')
    list.add(b, 'tracker')
    list.add({ ...a }, 'pex')
    expect(list.size).toBe(2)
  })

  it('addAll counts only the peers it did not know (not repeats, ourselves or invalid ports)', () => {
    const list = new PeerList()
    list.addSelf({ host: '127.0.0.1', port: 9999 })
    list.add(a, 'tracker')
    const added = list.addAll(
      [a, b, { ...b }, { host: '127.0.0.1', port: 9999 }, { host: '1.2.3.4', port: 0 }],
      'pex',
    )
    expect(added).toBe(1)
    expect(list.size).toBe(2)
  })

  it('never lists our own address or invalid ports', () => {
    const list = new PeerList()
    list.addSelf(a)
    expect(list.add(a, 'tracker')).toBeUndefined()
    expect(list.add({ host: '1.2.3.4', port: 0 }, 'tracker')).toBeUndefined()
    expect(list.size).toBe(0)
  })

  it('hands out idle peers once and backs off failing ones exponentially', () => {
    const list = new PeerList({ retryDelayMs: 100, maxRetryDelayMs: 1000, maxFailures: 3 })
    list.add(a, 'tracker')
    expect(list.takeForDialling(5, 0).map((p) => p.key)).toEqual(['127.0.0.1:1001'])
    expect(list.takeForDialling(5, 0)).toEqual([])
    list.dialFailed('127.0.0.1:1001', 'connect', 0)
    expect(list.takeForDialling(5, 99)).toEqual([])
    expect(list.takeForDialling(5, 100)).toHaveLength(1)
    list.dialFailed('127.0.0.1:1001', 'connect', 100)
    expect(list.hasReady(299)).toBe(false)
    expect(list.hasReady(300)).toBe(true)
    list.takeForDialling(5, 300)
    list.disconnected('127.0.0.1:1001', true, 300)
    expect(list.size).toBe(0)
  })

  it('a successful connection resets failures; peers on a banned IP are never handed out or added', () => {
    const bans = new BanList()
    const list = new PeerList({ retryDelayMs: 10, bans })
    list.add(a, 'tracker')
    list.takeForDialling(1, 0)
    list.dialFailed('127.0.0.1:1001', 'handshake', 0)
    expect(list.get('127.0.0.1:1001')?.lastFailure).toBe('handshake')
    list.takeForDialling(1, 10)
    list.connected('127.0.0.1:1001')
    expect(list.get('127.0.0.1:1001')).toMatchObject({ failures: 0, lastFailure: undefined })
    list.add(c, 'tracker')
    bans.ban('127.0.0.1')
    list.disconnected('127.0.0.1:1001', false, 10)
    expect(list.takeForDialling(5, 1_000_000).map((p) => p.key)).toEqual(['127.0.0.3:1003'])
    expect(list.add(b, 'pex')).toBeUndefined()
    expect(list.addIncoming({ host: '::ffff:127.0.0.1', port: 4000 })).toBeUndefined()
    expect(list.add({ host: '127.0.0.2', port: 1 }, 'pex')).toBeDefined()
  })

  it('lists an incoming peer while it is connected and forgets it when it leaves', () => {
    const list = new PeerList({ maxKnown: 1 })
    list.add(a, 'tracker')
    const incoming = list.addIncoming({ host: '127.0.0.7', port: 50_000 })
    expect(incoming).toMatchObject({ state: 'connected', dialable: false, source: 'incoming' })
    expect(list.size).toBe(2)
    expect(list.takeForDialling(5, 0).map((p) => p.key)).toEqual(['127.0.0.1:1001'])
    list.disconnected('127.0.0.7:50000', true, 0)
    expect(list.get('127.0.0.7:50000')).toBeUndefined()
  })

  it('says how every known peer failed once none is left to try', () => {
    const list = new PeerList()
    list.addAll([a, b, c], 'tracker')
    expect(list.allFailed()).toBeUndefined()
    list.takeForDialling(3, 0)
    list.dialFailed(`${a.host}:${a.port}`, 'handshake', 0)
    list.dialFailed(`${b.host}:${b.port}`, 'handshake', 0)
    expect(list.allFailed()).toBeUndefined()
    list.dialFailed(`${c.host}:${c.port}`, 'connect', 0)
    expect(list.allFailed()).toEqual({ connect: 1, handshake: 2, protocol: 0 })
  })

  it('prefers peers with fewer failures', () => {
    const list = new PeerList({ retryDelayMs: 1 })
    list.add(a, 'tracker')
    list.takeForDialling(1, 0)
    list.dialFailed('127.0.0.1:1001', 'connect', 0)
    list.add(b, 'tracker')
    expect(list.takeForDialling(1, 10).map((p) => p.key)).toEqual(['127.0.0.1:1002'])
  })

  it('lets peers left on good terms be dialled again at once after a pause', () => {
    const list = new PeerList({ retryDelayMs: 10_000 })
    list.add(a, 'tracker')
    list.add(b, 'tracker')
    list.takeForDialling(2, 0)
    list.disconnected('127.0.0.1:1001', false, 0)
    list.disconnected('127.0.0.1:1002', true, 0)
    list.forgiveCleanDisconnects()
    expect(list.takeForDialling(2, 1).map((p) => p.key)).toEqual(['127.0.0.1:1001'])
  })
})

import { describe, expect, it } from 'vitest'
import { PeerList } from './peer-list.js'

const a = { host: '127.0.0.1', port: 1001 }
const b = { host: '127.0.0.1', port: 1002 }

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
    list.disconnected('127.0.0.1:1001', true, 0)
    expect(list.takeForDialling(5, 99)).toEqual([])
    expect(list.takeForDialling(5, 100)).toHaveLength(1)
    list.disconnected('127.0.0.1:1001', true, 100)
    expect(list.nextRetryAt()).toBe(300)
    list.takeForDialling(5, 300)
    list.disconnected('127.0.0.1:1001', true, 300)
    expect(list.size).toBe(0)
  })

  it('a successful connection resets failures; banned peers are never handed out or re-added', () => {
    const list = new PeerList({ retryDelayMs: 10 })
    list.add(a, 'tracker')
    list.takeForDialling(1, 0)
    list.disconnected('127.0.0.1:1001', true, 0)
    list.takeForDialling(1, 10)
    list.connected('127.0.0.1:1001')
    expect(list.get('127.0.0.1:1001')?.failures).toBe(0)
    list.ban('127.0.0.1:1001')
    list.disconnected('127.0.0.1:1001', false, 10)
    expect(list.takeForDialling(5, 1_000_000)).toEqual([])
    expect(list.add(a, 'pex')).toBeUndefined()
    expect(list.isBanned('127.0.0.1:1001')).toBe(true)
  })

  it('prefers peers with fewer failures', () => {
    const list = new PeerList({ retryDelayMs: 1 })
    list.add(a, 'tracker')
    list.takeForDialling(1, 0)
    list.disconnected('127.0.0.1:1001', true, 0)
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

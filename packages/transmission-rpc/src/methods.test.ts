import { describe, expect, it } from 'vitest'
import { createMemorySession, makeTorrent } from '../test/memory-session.js'
import {
  decodeBase64,
  handleBody,
  type MethodContext,
  parseRequest,
  selectTorrents,
  torrentChanges,
} from './methods.js'

const NOW = 1_800_000_000_000

function contextWith(session = createMemorySession(), fetched = new Uint8Array([1, 2, 3])): MethodContext {
  return { session, now: () => NOW, fetchTorrent: async () => fetched }
}

async function call(method: string, args: unknown, context = contextWith()) {
  return (await handleBody(JSON.stringify({ method, arguments: args, tag: 7 }), context)).answer
}

describe('parseRequest', () => {
  it('answers malformed bodies with a reason, never a throw', () => {
    expect(parseRequest('{nope')).toEqual({
      ok: false,
      answer: { result: 'invalid JSON in request body', arguments: {} },
    })
    expect(parseRequest('[1]')).toMatchObject({
      ok: false,
      answer: { result: 'request must be a JSON object' },
    })
    expect(parseRequest('{"tag":3}')).toEqual({
      ok: false,
      answer: { result: 'no method name', arguments: {}, tag: 3 },
    })
    expect(parseRequest('{"method":"x","arguments":[]}')).toMatchObject({
      ok: false,
      answer: { result: 'arguments must be a JSON object' },
    })
  })

  it('keeps the method, arguments and tag', () => {
    expect(parseRequest('{"method":"session-get","tag":"a"}')).toEqual({
      ok: true,
      request: { method: 'session-get', arguments: {}, tag: 'a' },
    })
  })
})

describe('handleBody', () => {
  it('says an unknown method is not recognized and echoes the tag', async () => {
    expect(await call('torrent-frobnicate', {})).toEqual({
      result: 'method name not recognized',
      arguments: {},
      tag: 7,
    })
    expect(await call('__proto__', {})).toMatchObject({ result: 'method name not recognized' })
  })

  it('turns a session failure into the result string', async () => {
    const session = createMemorySession()
    session.freeSpace = async () => {
      throw new Error('no such directory')
    }
    expect(await call('free-space', { path: '/x' }, contextWith(session))).toEqual({
      result: 'no such directory',
      arguments: {},
      tag: 7,
    })
  })
})

describe('torrent-get', () => {
  const torrents = [
    makeTorrent({ id: 2, name: 'b', rateDownload: 12.5, sizeWhenDone: 1000, leftUntilDone: 250 }),
    makeTorrent({ id: 1, name: 'a', activityDate: NOW / 1000 - 10 }),
  ]

  it('needs fields', async () => {
    expect(await call('torrent-get', {})).toMatchObject({ result: 'no fields specified' })
  })

  it('answers the known fields of every torrent, sorted by id, with integers rounded', async () => {
    const answer = await call(
      'torrent-get',
      { fields: ['id', 'name', 'rateDownload', 'percentDone', 'bogus'] },
      contextWith(createMemorySession(torrents)),
    )
    expect(answer).toEqual({
      result: 'success',
      tag: 7,
      arguments: {
        torrents: [
          { id: 1, name: 'a', rateDownload: 0, percentDone: 0 },
          { id: 2, name: 'b', rateDownload: 13, percentDone: 0.75 },
        ],
      },
    })
  })

  it('answers format "table" with a header row', async () => {
    const answer = await call(
      'torrent-get',
      { fields: ['id', 'name'], format: 'table', ids: [2] },
      contextWith(createMemorySession(torrents)),
    )
    expect(answer.arguments).toEqual({
      torrents: [
        ['id', 'name'],
        [2, 'b'],
      ],
    })
  })

  it('selects recently-active torrents and reports removed ids', async () => {
    const session = createMemorySession(torrents)
    session.removed.push({ id: 9, at: NOW / 1000 - 5 }, { id: 8, at: NOW / 1000 - 600 })
    const answer = await call('torrent-get', { fields: ['id'], ids: 'recently-active' }, contextWith(session))
    expect(answer.arguments).toEqual({ torrents: [{ id: 1 }], removed: [9] })
  })

  it('maps files, fileStats, priorities, wanted and trackerStats', async () => {
    const torrent = makeTorrent({
      id: 1,
      name: 'dir',
      files: [
        { name: 'dir/a', length: 10, bytesCompleted: 10, wanted: true, priority: 1 },
        { name: 'dir/b', length: 5, bytesCompleted: 0, wanted: false, priority: -1 },
      ],
      trackers: [{ id: 0, announce: 'http://t.example:8080/announce', scrape: '', tier: 0, seederCount: 3 }],
    })
    const answer = await call(
      'torrent-get',
      { fields: ['files', 'fileStats', 'priorities', 'wanted', 'trackers', 'trackerStats'] },
      contextWith(createMemorySession([torrent])),
    )
    const [got] = (answer.arguments as { torrents: Record<string, unknown>[] }).torrents
    expect(got?.files).toEqual([
      { bytesCompleted: 10, length: 10, name: 'dir/a' },
      { bytesCompleted: 0, length: 5, name: 'dir/b' },
    ])
    expect(got?.fileStats).toEqual([
      { bytesCompleted: 10, priority: 1, wanted: true },
      { bytesCompleted: 0, priority: -1, wanted: false },
    ])
    expect(got?.priorities).toEqual([1, -1])
    expect(got?.wanted).toEqual([1, 0])
    expect(got?.trackers).toEqual([
      { announce: 'http://t.example:8080/announce', id: 0, scrape: '', tier: 0 },
    ])
    expect(got?.trackerStats).toMatchObject([
      { host: 'http://t.example:8080', seederCount: 3, leecherCount: -1 },
    ])
  })
})

describe('selectTorrents', () => {
  const session = createMemorySession([makeTorrent({ id: 1, name: 'a' }), makeTorrent({ id: 3, name: 'c' })])
  const hash = session.list[1]?.hashString ?? ''

  it('takes ids, hashes (any case) and mixtures; unknown ones match nothing', () => {
    expect(selectTorrents(session, 3, 0).torrents.map((t) => t.id)).toEqual([3])
    expect(selectTorrents(session, hash.toUpperCase(), 0).torrents.map((t) => t.id)).toEqual([3])
    expect(selectTorrents(session, [1, hash, 99, 'f'.repeat(40)], 0).torrents.map((t) => t.id)).toEqual([
      1, 3,
    ])
    expect(selectTorrents(session, undefined, 0).torrents.map((t) => t.id)).toEqual([1, 3])
  })

  it('refuses ids of other types', () => {
    expect(() => selectTorrents(session, [{}], 0)).toThrow(/ids must be/)
    expect(() => selectTorrents(session, [1.5], 0)).toThrow(/ids must be/)
  })
})

describe('torrent-add', () => {
  it('sends metainfo as bytes and answers torrent-added, then torrent-duplicate', async () => {
    const session = createMemorySession()
    const metainfo = Buffer.from('d4:infod4:name1:xee').toString('base64')
    const first = await call(
      'torrent-add',
      { metainfo, paused: true, 'download-dir': '/data' },
      contextWith(session),
    )
    expect(first.result).toBe('success')
    const added = (first.arguments as { 'torrent-added': { id: number; name: string; hashString: string } })[
      'torrent-added'
    ]
    expect(added.id).toBe(1)
    expect(session.calls[0]).toEqual({
      method: 'add',
      request: {
        metainfo: new Uint8Array(Buffer.from('d4:infod4:name1:xee')),
        downloadDir: '/data',
        paused: true,
      },
    })
    const again = await call('torrent-add', { metainfo }, contextWith(session))
    expect(again.arguments).toEqual({ 'torrent-duplicate': added })
  })

  it('takes a magnet, an absolute path or an http(s) URL in filename', async () => {
    const session = createMemorySession()
    const context = contextWith(session, new Uint8Array([9]))
    const magnet = `magnet:?xt=urn:btih:${'a'.repeat(40)}&dn=m`
    await call('torrent-add', { filename: magnet }, context)
    await call('torrent-add', { filename: '/tmp/x.torrent' }, context)
    await call('torrent-add', { filename: 'https://example.org/x.torrent' }, context)
    expect(session.calls.map((c) => (c.method === 'add' ? c.request : undefined))).toEqual([
      { magnet },
      { path: '/tmp/x.torrent' },
      { metainfo: new Uint8Array([9]) },
    ])
  })

  it('refuses relative paths, other schemes, bad base64 and relative download dirs', async () => {
    expect((await call('torrent-add', { filename: 'x.torrent' })).result).toBe(
      'filename must be an absolute path',
    )
    expect((await call('torrent-add', { filename: 'file:///etc/passwd' })).result).toMatch(
      /magnet link, an http\(s\) URL/,
    )
    expect((await call('torrent-add', { metainfo: 'not base64!' })).result).toBe(
      'metainfo is not valid base64',
    )
    expect((await call('torrent-add', { metainfo: 'AAAA', 'download-dir': 'rel' })).result).toBe(
      'download-dir must be an absolute path',
    )
    expect((await call('torrent-add', {})).result).toBe('no filename or metainfo specified')
  })

  it('decodes base64 with line breaks', () => {
    expect(decodeBase64('aGVs\nbG8=')).toEqual(new Uint8Array(Buffer.from('hello')))
  })
})

describe('torrent actions', () => {
  it('pass resolved ids to the session', async () => {
    const session = createMemorySession([
      makeTorrent({ id: 1, name: 'a' }),
      makeTorrent({ id: 2, name: 'b' }),
    ])
    const context = contextWith(session)
    await call('torrent-start', { ids: [1] }, context)
    await call('torrent-start-now', {}, context)
    await call('torrent-stop', { ids: 2 }, context)
    await call('torrent-verify', { ids: [1, 2] }, context)
    await call('torrent-reannounce', { ids: [1] }, context)
    await call('queue-move-top', { ids: [2] }, context)
    await call('torrent-set-location', { ids: [1], location: '/new', move: true }, context)
    await call('torrent-remove', { ids: [2], 'delete-local-data': true }, context)
    await call('torrent-stop', { ids: [99] }, context)
    expect(session.calls).toEqual([
      { method: 'start', ids: [1], now: false },
      { method: 'start', ids: [1, 2], now: true },
      { method: 'stop', ids: [2] },
      { method: 'verify', ids: [1, 2] },
      { method: 'reannounce', ids: [1] },
      { method: 'queueMove', ids: [2], move: 'top' },
      { method: 'setLocation', ids: [1], location: '/new', move: true },
      { method: 'remove', ids: [2], deleteData: true },
    ])
  })

  it('renames a path of exactly one torrent and answers with what it did', async () => {
    const session = createMemorySession([
      makeTorrent({ id: 1, name: 'a' }),
      makeTorrent({ id: 2, name: 'b' }),
    ])
    const context = contextWith(session)
    const answer = await call('torrent-rename-path', { ids: [2], path: 'b/x.bin', name: 'y.bin' }, context)
    expect(answer).toMatchObject({ result: 'success', arguments: { id: 2, path: 'b/x.bin', name: 'y.bin' } })
    expect((await call('torrent-rename-path', { path: 'a', name: 'c' }, context)).result).toMatch(
      /exactly one/,
    )
    expect((await call('torrent-rename-path', { ids: [1], path: 'a', name: 7 }, context)).result).toMatch(
      /name must be/,
    )
    expect(session.calls).toEqual([{ method: 'renamePath', id: 2, path: 'b/x.bin', name: 'y.bin' }])
  })

  it('refuses a relative location', async () => {
    const session = createMemorySession([makeTorrent({ id: 1, name: 'a' })])
    expect(
      (await call('torrent-set-location', { ids: [1], location: '../x' }, contextWith(session))).result,
    ).toBe('location must be an absolute path')
    expect(session.calls).toEqual([])
  })
})

describe('torrentChanges', () => {
  it('keeps known, well-typed keys and ignores unknown ones', () => {
    expect(
      torrentChanges({
        downloadLimit: 100,
        downloadLimited: true,
        'peer-limit': 20,
        seedRatioLimit: 1.5,
        seedRatioMode: 1,
        'files-wanted': [0, 2],
        'priority-high': [],
        trackerAdd: ['udp://t.example:6969'],
        labels: ['x'],
      }),
    ).toEqual({
      downloadLimit: 100,
      downloadLimited: true,
      peerLimit: 20,
      seedRatioLimit: 1.5,
      seedRatioMode: 1,
      filesWanted: [0, 2],
      priorityHigh: [],
      trackerAdd: ['udp://t.example:6969'],
    })
  })

  it('refuses wrong types and ranges', () => {
    expect(() => torrentChanges({ downloadLimit: -1 })).toThrow(/downloadLimit/)
    expect(() => torrentChanges({ seedRatioMode: 3 })).toThrow(/seedRatioMode/)
    expect(() => torrentChanges({ bandwidthPriority: 2 })).toThrow(/bandwidthPriority/)
    expect(() => torrentChanges({ 'files-wanted': ['0'] })).toThrow(/files-wanted/)
    expect(() => torrentChanges({ trackerAdd: ['javascript:alert(1)'] })).toThrow(/announce URL/)
  })
})

describe('session methods', () => {
  it('session-get answers the settings, versions and units', async () => {
    const answer = await call('session-get', {})
    expect(answer.arguments).toMatchObject({
      'rpc-version': 16,
      'rpc-version-minimum': 14,
      version: '3.00 (bt test double)',
      'download-dir': '/downloads',
      'speed-limit-down': 100,
      seedRatioLimit: 2,
      encryption: 'preferred',
      'download-dir-free-space': 123_456_789_012,
      'session-id': '',
    })
    expect((await call('session-get', { fields: ['version', 'peer-port'] })).arguments).toEqual({
      version: '3.00 (bt test double)',
      'peer-port': 51413,
    })
  })

  it('session-set passes type-checked changes and ignores read-only and unknown keys', async () => {
    const session = createMemorySession()
    const context = contextWith(session)
    expect(
      (
        await call(
          'session-set',
          { 'speed-limit-down': 300, 'speed-limit-down-enabled': true, 'config-dir': '/x', foo: 1 },
          context,
        )
      ).result,
    ).toBe('success')
    expect(session.calls).toEqual([
      { method: 'setSettings', changes: { speedLimitDown: 300, speedLimitDownEnabled: true } },
    ])
    expect((await call('session-set', { 'speed-limit-up': 'fast' }, context)).result).toBe(
      'speed-limit-up must be a non-negative integer',
    )
    expect((await call('session-set', { 'download-dir': 'relative' }, context)).result).toBe(
      'download-dir must be an absolute path',
    )
  })

  it('session-stats sums the torrents', async () => {
    const session = createMemorySession([
      makeTorrent({ id: 1, name: 'a', status: 4, rateDownload: 100.4, rateUpload: 3 }),
      makeTorrent({ id: 2, name: 'b', status: 0 }),
    ])
    expect((await call('session-stats', {}, contextWith(session))).arguments).toEqual({
      activeTorrentCount: 1,
      pausedTorrentCount: 1,
      torrentCount: 2,
      downloadSpeed: 100,
      uploadSpeed: 3,
      'current-stats': {
        uploadedBytes: 1000,
        downloadedBytes: 2000,
        filesAdded: 1,
        sessionCount: 1,
        secondsActive: 60,
      },
      'cumulative-stats': {
        uploadedBytes: 5000,
        downloadedBytes: 9000,
        filesAdded: 4,
        sessionCount: 3,
        secondsActive: 3600,
      },
    })
  })

  it('free-space, port-test and session-close', async () => {
    const session = createMemorySession()
    const context = contextWith(session)
    expect((await call('free-space', { path: '/downloads' }, context)).arguments).toEqual({
      path: '/downloads',
      'size-bytes': 123_456_789_012,
    })
    expect((await call('free-space', { path: 'x' }, context)).result).toBe('path must be an absolute path')
    expect((await call('port-test', {}, context)).result).toMatch(/unknown/)
    session.portOpen = true
    expect((await call('port-test', {}, context)).arguments).toEqual({ 'port-is-open': true })
    const closed = await handleBody('{"method":"session-close"}', context)
    expect(closed.answer.result).toBe('success')
    expect(session.calls).toEqual([])
    await closed.after?.()
    expect(session.calls).toEqual([{ method: 'close' }])
  })
})

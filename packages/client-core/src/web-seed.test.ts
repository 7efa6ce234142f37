import { type BencodeInput, encode } from '@bt/bencode'
import { type Metainfo, parseTorrent } from '@bt/metainfo'
import { describe, expect, it } from 'vitest'
import { WebSeedUnavailableError } from './errors.js'
import {
  createWebSeed,
  parseRetryAfter,
  planWebSeedRun,
  WEB_SEED_MAX_BACKOFF_MS,
  webSeedFileUrl,
  webSeedRetryDelayMs,
} from './web-seed.js'

interface FileEntry {
  path: string[]
  length: number
  padding?: boolean
}

/** A torrent parsed from a hand-built info dict (zero piece hashes: only the layout matters here). */
function torrent(name: string, files: FileEntry[] | number, pieceLength = 16): Metainfo {
  const total = typeof files === 'number' ? files : files.reduce((sum, file) => sum + file.length, 0)
  const info: Record<string, BencodeInput> = {
    name,
    'piece length': pieceLength,
    pieces: new Uint8Array(20 * Math.ceil(total / pieceLength)),
  }
  if (typeof files === 'number') info.length = files
  else {
    info.files = files.map((file) => ({
      length: file.length,
      path: file.path,
      ...(file.padding ? { attr: 'p' } : {}),
    }))
  }
  return parseTorrent(encode({ info }))
}

describe('webSeedFileUrl', () => {
  const single = torrent('file.bin', 100)
  const multi = torrent('Dir', [
    { path: ['a.bin'], length: 10 },
    { path: ['sub', 'b c.bin'], length: 10 },
  ])

  it('uses a single-file URL as it is, or appends the name after a slash', () => {
    expect(webSeedFileUrl('http://h/x/file.iso', single, 0)).toBe('http://h/x/file.iso')
    expect(webSeedFileUrl('http://h/x/', single, 0)).toBe('http://h/x/file.bin')
    expect(webSeedFileUrl('https://h:8443/', single, 0)).toBe('https://h:8443/file.bin')
  })

  it('builds base/name/path for multi-file torrents, with or without a trailing slash', () => {
    expect(webSeedFileUrl('http://h/pub/', multi, 0)).toBe('http://h/pub/Dir/a.bin')
    expect(webSeedFileUrl('http://h/pub', multi, 1)).toBe('http://h/pub/Dir/sub/b%20c.bin')
    expect(webSeedFileUrl('http://h', multi, 0)).toBe('http://h/Dir/a.bin')
  })

  it('percent-encodes unicode as UTF-8 and every reserved character', () => {
    const meta = torrent('Müsik 目录', [
      { path: ["a?b#c%d&e+f=g;h,i:j@k!l'm(n)o*p~q_r-s.t"], length: 1 },
      { path: ['naïve', '😀.txt'], length: 1 },
    ])
    expect(webSeedFileUrl('http://h/', meta, 0)).toBe(
      'http://h/M%C3%BCsik%20%E7%9B%AE%E5%BD%95/a%3Fb%23c%25d%26e%2Bf%3Dg%3Bh%2Ci%3Aj%40k%21l%27m%28n%29o%2Ap~q_r-s.t',
    )
    expect(webSeedFileUrl('http://h/', meta, 1)).toBe(
      'http://h/M%C3%BCsik%20%E7%9B%AE%E5%BD%95/na%C3%AFve/%F0%9F%98%80.txt',
    )
  })

  it('uses the torrent’s own spelling, not the sanitised path', () => {
    const meta = torrent('CON', [{ path: ['a:b', 'c|d.txt'], length: 1 }])
    expect(meta.name).not.toBe('CON')
    expect(meta.files[0]?.path).not.toEqual(['a:b', 'c|d.txt'])
    expect(webSeedFileUrl('http://h/', meta, 0)).toBe('http://h/CON/a%3Ab/c%7Cd.txt')
    const file = torrent('nul', 5)
    expect(webSeedFileUrl('http://h/', file, 0)).toBe('http://h/nul')
  })

  it('gives no URL for a file whose components could reach another path', () => {
    const meta = torrent('Dir', [
      { path: ['..', 'etc', 'passwd'], length: 1 },
      { path: ['.', 'x'], length: 1 },
      { path: ['a/b'], length: 1 },
      { path: ['..', 'ok'], length: 1 },
      { path: ['fine..name...'], length: 1 },
    ])
    expect(webSeedFileUrl('http://h/', meta, 0)).toBeUndefined()
    expect(webSeedFileUrl('http://h/', meta, 1)).toBeUndefined()
    expect(webSeedFileUrl('http://h/', meta, 2)).toBeUndefined()
    expect(webSeedFileUrl('http://h/', meta, 3)).toBeUndefined()
    // Dots inside a name are no dot segment: they stay as they are.
    expect(webSeedFileUrl('http://h/', meta, 4)).toBe('http://h/Dir/fine..name...')
  })

  it('keeps a query, drops a fragment, and refuses relative and non-http(s) URLs', () => {
    expect(webSeedFileUrl('http://h/seed/?token=1#x', multi, 0)).toBe('http://h/seed/Dir/a.bin?token=1')
    expect(webSeedFileUrl('/relative/', multi, 0)).toBeUndefined()
    expect(webSeedFileUrl('ftp://h/', multi, 0)).toBeUndefined()
    expect(webSeedFileUrl('file:///srv/', multi, 0)).toBeUndefined()
    expect(webSeedFileUrl('http://h/', multi, 9)).toBeUndefined()
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-05-01T12:00:00Z')

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0)
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000)
  })

  it('reads the three HTTP-date forms, all GMT', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Wednesday, 01-May-24 12:01:00 GMT', now)).toBe(60_000)
    expect(parseRetryAfter('Wed May  1 12:00:10 2024', now)).toBe(10_000)
  })

  it('gives 0 for a date past, caps absurd waits at an hour', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('999999999', now)).toBe(3_600_000)
  })

  it('gives undefined for what it cannot read', () => {
    for (const value of [
      null,
      undefined,
      '',
      '-5',
      '1.5',
      '2024-05-01T12:00:30Z',
      'soon',
      'Wed, 99 Foo 2024 GMT',
    ]) {
      expect(parseRetryAfter(value, now)).toBeUndefined()
    }
  })
})

describe('webSeedRetryDelayMs', () => {
  it('doubles from 5 s up to 5 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map(webSeedRetryDelayMs)).toEqual([
      5_000,
      10_000,
      20_000,
      40_000,
      80_000,
      160_000,
      300_000,
      WEB_SEED_MAX_BACKOFF_MS,
    ])
  })
})

describe('planWebSeedRun', () => {
  // Pieces of 16: a(0-19) pad(20-31) b(32-36) empty c(37-69); total 70, 5 pieces.
  const meta = torrent('Dir', [
    { path: ['a'], length: 20 },
    { path: ['.pad', '12'], length: 12, padding: true },
    { path: ['b'], length: 5 },
    { path: ['empty'], length: 0 },
    { path: ['c'], length: 33 },
  ])

  it('maps one piece to the file parts under it, leaving padding out', () => {
    expect(planWebSeedRun(meta, 0, 0)).toEqual({
      length: 16,
      ranges: [{ fileIndex: 0, start: 0, end: 15, at: 0 }],
    })
    // Piece 1 is a's tail and padding: one range.
    expect(planWebSeedRun(meta, 1, 1)).toEqual({
      length: 16,
      ranges: [{ fileIndex: 0, start: 16, end: 19, at: 0 }],
    })
    expect(planWebSeedRun(meta, 2, 2)).toEqual({
      length: 16,
      ranges: [
        { fileIndex: 2, start: 0, end: 4, at: 0 },
        { fileIndex: 4, start: 0, end: 10, at: 5 },
      ],
    })
  })

  it('maps a run over several files, the short last piece included', () => {
    expect(planWebSeedRun(meta, 1, 4)).toEqual({
      length: 54,
      ranges: [
        { fileIndex: 0, start: 16, end: 19, at: 0 },
        { fileIndex: 2, start: 0, end: 4, at: 16 },
        { fileIndex: 4, start: 0, end: 32, at: 21 },
      ],
    })
    expect(planWebSeedRun(meta, 4, 4)).toEqual({
      length: 6,
      ranges: [{ fileIndex: 4, start: 27, end: 32, at: 0 }],
    })
  })

  it('refuses what is not a run of the torrent', () => {
    expect(() => planWebSeedRun(meta, -1, 0)).toThrow(RangeError)
    expect(() => planWebSeedRun(meta, 2, 1)).toThrow(RangeError)
    expect(() => planWebSeedRun(meta, 0, 5)).toThrow(RangeError)
    expect(() => planWebSeedRun(meta, 0.5, 1)).toThrow(RangeError)
  })

  it('a run of padding only is zeros, fetched from nobody', async () => {
    const padded = torrent('Dir', [
      { path: ['a'], length: 16 },
      { path: ['.pad', '16'], length: 16, padding: true },
      { path: ['b'], length: 16 },
    ])
    expect(planWebSeedRun(padded, 1, 1).ranges).toEqual([])
    const seed = createWebSeed({
      url: 'http://h/',
      meta: padded,
      fetch: () => Promise.reject(new Error('not to be called')),
    })
    expect(await seed.fetchPieces(1, 1)).toEqual(new Uint8Array(16))
  })
})

describe('createWebSeed without a server', () => {
  const meta = torrent('Dir', [
    { path: ['a'], length: 16 },
    { path: ['..', 'b'], length: 16 },
  ])
  const noFetch = () => Promise.reject(new Error('not to be called'))

  it('is dropped at once for a URL it cannot use', async () => {
    const seed = createWebSeed({ url: 'udp://h/', meta, fetch: noFetch })
    expect(seed.state).toEqual({ kind: 'dropped', reason: 'not an absolute http(s) URL' })
    expect(seed.canServe(0, Date.now())).toBe(false)
    await expect(seed.fetchPieces(0, 0)).rejects.toMatchObject({
      name: 'WebSeedUnavailableError',
      reason: 'dropped',
    })
  })

  it('cannot serve a file without a safe URL, and is dropped once every file is', async () => {
    const dropped: number[] = []
    const seed = createWebSeed({
      url: 'http://h/',
      meta,
      fetch: noFetch,
      onFileDropped: (fileIndex) => dropped.push(fileIndex),
    })
    expect(seed.canServe(0, 0)).toBe(true)
    expect(seed.canServe(1, 0)).toBe(false)
    expect(dropped).toEqual([1])
    await expect(seed.fetchPieces(0, 1)).rejects.toBeInstanceOf(WebSeedUnavailableError)
    expect(seed.state.kind).toBe('ready')
    seed.fileFailed(0)
    seed.fileFailed(0)
    expect(dropped).toEqual([1, 0])
    expect(seed.canServe(0, 0)).toBe(false)
    expect(seed.state.kind).toBe('dropped')
  })

  it('checks its options', () => {
    expect(() => createWebSeed({ url: 'http://h/', meta, maxConnections: 0 })).toThrow(RangeError)
    expect(() => createWebSeed({ url: 'http://h/', meta, maxRedirects: -1 })).toThrow(RangeError)
    expect(() => createWebSeed({ url: 'http://h/', meta, maxRedirects: 0 })).not.toThrow()
  })
})

import { describe, expect, it } from 'vitest'
import { contentTypeFor } from './content-type.js'
import { filePath, indexPage, playlist } from './pages.js'

const files = [
  { index: 0, path: 'Show/<b>ep 1</b> & "more".mkv', length: 5_000_000 },
  { index: 1, path: 'Show/notes\n#EXTINF:0,evil.txt', length: 12 },
  { index: 2, path: 'Show/音楽/ü?#%.mp3', length: 0 },
]

describe('pages', () => {
  it('links each file as /<index>/<percent-encoded path>, keeping the separators', () => {
    expect(filePath(files[0]!)).toBe('/0/Show/%3Cb%3Eep%201%3C/b%3E%20%26%20%22more%22.mkv')
    expect(filePath(files[2]!)).toBe('/2/Show/%E9%9F%B3%E6%A5%BD/%C3%BC%3F%23%25.mp3')
  })

  it('escapes names in the index', () => {
    const html = indexPage('<script>alert(1)</script>', files)
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('<b>')
    expect(html).toContain('&#60;b&#62;ep 1&#60;/b&#62; &#38; &#34;more&#34;.mkv')
    expect(html).toContain('href="/0/Show/%3Cb%3E')
    expect(html).toContain('href="/1"')
    expect(html).toContain('href="/playlist.m3u"')
  })

  it('lists the media files in an extended M3U with absolute URLs, one line per field', () => {
    expect(playlist('http://127.0.0.1:8888', files)).toBe(
      [
        '#EXTM3U',
        '#EXTINF:-1,Show/<b>ep 1</b> & "more".mkv',
        'http://127.0.0.1:8888/0/Show/%3Cb%3Eep%201%3C/b%3E%20%26%20%22more%22.mkv',
        '#EXTINF:-1,Show/音楽/ü?#%.mp3',
        'http://127.0.0.1:8888/2/Show/%E9%9F%B3%E6%A5%BD/%C3%BC%3F%23%25.mp3',
        '',
      ].join('\n'),
    )
  })

  it('lists every file when none is media, with line breaks in names flattened', () => {
    const text = playlist('http://localhost:1', [files[1]!])
    expect(text.split('\n')).toEqual([
      '#EXTM3U',
      '#EXTINF:-1,Show/notes #EXTINF:0,evil.txt',
      'http://localhost:1/1/Show/notes%0A%23EXTINF%3A0%2Cevil.txt',
      '',
    ])
  })
})

describe('contentTypeFor', () => {
  it.each([
    ['a/b/movie.MP4', 'video/mp4'],
    ['x.mkv', 'video/x-matroska'],
    ['x.webm', 'video/webm'],
    ['x.mp3', 'audio/mpeg'],
    ['x.flac', 'audio/flac'],
    ['x.srt', 'application/x-subrip'],
    ['x.vtt', 'text/vtt'],
    ['x.tar.gz', 'application/octet-stream'],
    ['.mp4', 'application/octet-stream'],
    ['dir.mp4/README', 'application/octet-stream'],
    ['noext', 'application/octet-stream'],
  ])('%s → %s', (path, type) => {
    expect(contentTypeFor(path)).toBe(type)
  })
})

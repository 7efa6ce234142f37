// The two generated documents: the HTML index and the extended M3U playlist. Names come from the
// torrent, so they are escaped for HTML, percent-encoded in links and stripped of line breaks in M3U.
import { contentTypeFor, isMediaType } from './content-type.js'
import type { StreamFile } from './source.js'

/** `/<index>/<path>`, each path component percent-encoded, so players see the file's real name last. */
export function filePath(file: StreamFile): string {
  return `/${file.index}/${file.path.split('/').map(encodeURIComponent).join('/')}`
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export function indexPage(name: string, files: readonly StreamFile[]): string {
  const items = files.map(
    (file) =>
      `<li><a href="${escapeHtml(filePath(file))}">${escapeHtml(file.path)}</a> ` +
      `<small>(${formatSize(file.length)}, <a href="/${file.index}">/${file.index}</a>)</small></li>`,
  )
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(name)}</title></head>`,
    `<body><h1>${escapeHtml(name)}</h1>`,
    `<ul>\n${items.join('\n')}\n</ul>`,
    '<p><a href="/playlist.m3u">playlist.m3u</a></p>',
    '</body></html>',
    '',
  ].join('\n')
}

/**
 * Extended M3U of the torrent's audio and video files (all files when it has none, so a playlist is
 * never empty for a torrent of unknown types), as absolute URLs under `origin` (`http://host:port`).
 */
export function playlist(origin: string, files: readonly StreamFile[]): string {
  const media = files.filter((file) => isMediaType(contentTypeFor(file.path)))
  const listed = media.length > 0 ? media : files
  const lines = ['#EXTM3U']
  for (const file of listed) {
    lines.push(`#EXTINF:-1,${file.path.replace(/[\r\n]+/g, ' ')}`, `${origin}${filePath(file)}`)
  }
  return `${lines.join('\n')}\n`
}

function formatSize(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  if (bytes < 1024) return `${bytes} B`
  let value = bytes
  let unit = ''
  for (const next of units) {
    if (value < 1024) break
    value /= 1024
    unit = next
  }
  return `${value.toFixed(1)} ${unit}`
}

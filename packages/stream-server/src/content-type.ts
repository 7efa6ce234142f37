// Content-Type from a file name's extension: players pick a demuxer from it, browsers decide whether to
// play inline. A small fixed table; anything else is application/octet-stream.

const TYPES: ReadonlyMap<string, string> = new Map([
  // video
  ['mp4', 'video/mp4'],
  ['m4v', 'video/mp4'],
  ['mkv', 'video/x-matroska'],
  ['webm', 'video/webm'],
  ['avi', 'video/x-msvideo'],
  ['mov', 'video/quicktime'],
  ['ogv', 'video/ogg'],
  ['ts', 'video/mp2t'],
  ['m2ts', 'video/mp2t'],
  ['mpg', 'video/mpeg'],
  ['mpeg', 'video/mpeg'],
  ['wmv', 'video/x-ms-wmv'],
  ['flv', 'video/x-flv'],
  // audio
  ['mp3', 'audio/mpeg'],
  ['ogg', 'audio/ogg'],
  ['oga', 'audio/ogg'],
  ['opus', 'audio/ogg'],
  ['flac', 'audio/flac'],
  ['wav', 'audio/wav'],
  ['m4a', 'audio/mp4'],
  ['m4b', 'audio/mp4'],
  ['aac', 'audio/aac'],
  ['mka', 'audio/x-matroska'],
  // subtitles and text
  ['srt', 'application/x-subrip'],
  ['vtt', 'text/vtt'],
  ['ass', 'text/x-ssa'],
  ['ssa', 'text/x-ssa'],
  ['txt', 'text/plain'],
  ['nfo', 'text/plain'],
  ['md', 'text/markdown'],
  ['html', 'text/html'],
  ['htm', 'text/html'],
  ['json', 'application/json'],
  ['xml', 'application/xml'],
  // documents, images, archives
  ['pdf', 'application/pdf'],
  ['epub', 'application/epub+zip'],
  ['png', 'image/png'],
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['gif', 'image/gif'],
  ['webp', 'image/webp'],
  ['svg', 'image/svg+xml'],
  ['zip', 'application/zip'],
  ['iso', 'application/x-iso9660-image'],
])

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream'

/** The Content-Type for `path` (a '/'-separated torrent path), by its last extension, case-insensitively. */
export function contentTypeFor(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  if (dot <= 0) return DEFAULT_CONTENT_TYPE
  return TYPES.get(base.slice(dot + 1).toLowerCase()) ?? DEFAULT_CONTENT_TYPE
}

/** Audio and video, the files a playlist lists. */
export function isMediaType(contentType: string): boolean {
  return contentType.startsWith('video/') || contentType.startsWith('audio/')
}

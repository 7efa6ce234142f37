// A .torrent for a magnet link whose metadata arrived: the fetched info dictionary's raw bytes, spliced
// in as they are (re-encoding could change them, and with them the info hash), plus the magnet's
// trackers and web seeds.
import { encode } from '@bt/bencode'

export function torrentFromInfo(
  infoBytes: Uint8Array,
  options: { trackers?: readonly string[]; webSeeds?: readonly string[] } = {},
): Uint8Array {
  const trackers = options.trackers ?? []
  const webSeeds = options.webSeeds ?? []
  const text = (value: string) => Buffer.from(value, 'utf8')
  // Keys in bencode's sorted order: announce, announce-list, info, url-list.
  const parts: Uint8Array[] = [text('d')]
  if (trackers[0] !== undefined) {
    parts.push(encode('announce'), encode(trackers[0]))
    if (trackers.length > 1) parts.push(encode('announce-list'), encode(trackers.map((url) => [url])))
  }
  parts.push(encode('info'), infoBytes)
  if (webSeeds.length > 0) parts.push(encode('url-list'), encode([...webSeeds]))
  parts.push(text('e'))
  return Buffer.concat(parts)
}

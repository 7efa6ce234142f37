// Tracker and web seed URLs from untrusted torrents and magnet links: keep the usable ones, once each.

/**
 * The URL trimmed, if it is absolute (`scheme://`) with a host and free of spaces and control
 * characters (which a URL parser would silently drop, changing what we contact); `undefined`
 * otherwise. The text is kept as written rather than normalised, since trackers may compare query
 * strings byte for byte.
 */
export function cleanUrl(text: string): string | undefined {
  const url = text.trim()
  if (url === '') return undefined
  for (let i = 0; i < url.length; i++) {
    const code = url.charCodeAt(i)
    if (code <= 0x20 || code === 0x7f) return undefined
  }
  // The WHATWG parser would also take `http:host` or `http:/host`; no tracker is written like that.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined
  try {
    return new URL(url).host === '' ? undefined : url
  } catch {
    return undefined
  }
}

/** Clean URLs in order, without duplicates. */
export function cleanUrls(texts: Iterable<string>): string[] {
  const seen = new Set<string>()
  for (const text of texts) {
    const url = cleanUrl(text)
    if (url !== undefined) seen.add(url)
  }
  return [...seen]
}

/**
 * BEP 12 tiers with unusable URLs dropped, each URL only in the first tier that lists it, and empty
 * tiers removed. Without usable `announce-list` tiers the tracker list is `[[announce]]`.
 */
export function trackerTiers(
  announce: string | undefined,
  tiers: readonly (readonly string[])[],
): string[][] {
  const seen = new Set<string>()
  const cleaned: string[][] = []
  for (const tier of tiers) {
    const kept: string[] = []
    for (const text of tier) {
      const url = cleanUrl(text)
      if (url === undefined || seen.has(url)) continue
      seen.add(url)
      kept.push(url)
    }
    if (kept.length > 0) cleaned.push(kept)
  }
  if (cleaned.length > 0) return cleaned
  return announce === undefined ? [] : [[announce]]
}

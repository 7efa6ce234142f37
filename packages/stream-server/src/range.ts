// Range and If-Range (RFC 9110 §13.1.5, §14) as pure functions: which bytes of a file of `size` bytes
// a request gets. The server turns the decision into 200, 206 or 416; nothing here does I/O.

/** What to send for a request with these `Range`/`If-Range` headers. `end` is exclusive. */
export type RangeDecision =
  | { readonly kind: 'full'; readonly reason: FullReason }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' }

/**
 * Why the whole file is sent (200): no `Range`; a syntactically invalid one or another unit, which the
 * RFC says to ignore; several ranges that do not merge into one (see `parseRange`); a suffix range of
 * an empty file (satisfiable by the RFC, yet a 206 cannot describe zero bytes); or an `If-Range` that
 * does not match.
 */
export type FullReason = 'absent' | 'invalid' | 'other-unit' | 'multiple' | 'empty-file' | 'if-range'

interface Span {
  start: number
  end: number
}

const INT_RANGE = /^(\d+)-(\d*)$/
const SUFFIX_RANGE = /^-(\d+)$/

/**
 * Decides a `Range` header against a file of `size` bytes (a non-negative safe integer).
 *
 * Several satisfiable ranges: if they overlap or touch they are coalesced into one 206 (RFC 9110
 * lets a server coalesce overlapping ranges); otherwise the whole file is sent with 200. A server
 * may always ignore `Range`, every client must handle a 200, and a player seeking never sends
 * several ranges; answering only the first range instead would silently drop bytes the client asked
 * for, and a multipart/byteranges body is more code than the download managers that ask for it deserve.
 */
export function parseRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return full('absent')
  const equals = header.indexOf('=')
  if (equals < 0) return full('invalid')
  if (header.slice(0, equals).trim().toLowerCase() !== 'bytes') return full('other-unit')

  const total = BigInt(size)
  const spans: Span[] = []
  let specs = 0
  for (const element of header.slice(equals + 1).split(',')) {
    const spec = element.trim()
    // A recipient must ignore empty list elements (RFC 9110 §5.6.1.2).
    if (spec === '') continue
    specs++
    const int = INT_RANGE.exec(spec)
    if (int) {
      const first = BigInt(int[1]!)
      const last = int[2] === '' ? undefined : BigInt(int[2]!)
      if (last !== undefined && last < first) return full('invalid')
      if (first >= total) continue
      const end = last === undefined || last >= total ? total : last + 1n
      spans.push({ start: Number(first), end: Number(end) })
      continue
    }
    const suffix = SUFFIX_RANGE.exec(spec)
    if (suffix) {
      const length = BigInt(suffix[1]!)
      if (length === 0n) continue
      if (size === 0) return full('empty-file')
      spans.push({ start: Number(length >= total ? 0n : total - length), end: size })
      continue
    }
    return full('invalid')
  }
  if (specs === 0) return full('invalid')
  if (spans.length === 0) return { kind: 'unsatisfiable' }

  spans.sort((a, b) => a.start - b.start)
  const merged = spans[0]!
  for (const span of spans.slice(1)) {
    if (span.start > merged.end) return full('multiple')
    merged.end = Math.max(merged.end, span.end)
  }
  return { kind: 'partial', start: merged.start, end: merged.end }
}

/**
 * RFC 9110 §13.1.5: whether `Range` applies given `If-Range`. An entity tag must match `etag` by
 * strong comparison, so a weak one (`W/"…"`) never does. A date would have to equal a strong
 * Last-Modified, and this server sends no Last-Modified (a torrent has no modification time), so any
 * date fails too. When it fails, the whole file is sent: the client's partial copy may be stale.
 */
export function ifRangeMatches(ifRange: string | undefined, etag: string): boolean {
  if (ifRange === undefined) return true
  return ifRange.trim() === etag && isStrongEntityTag(etag)
}

/** `parseRange` after `If-Range`: what the server does with a GET or HEAD of a file. */
export function decideRange(
  headers: { readonly range?: string | undefined; readonly ifRange?: string | undefined },
  size: number,
  etag: string,
): RangeDecision {
  if (headers.range === undefined) return full('absent')
  if (!ifRangeMatches(headers.ifRange, etag)) return full('if-range')
  return parseRange(headers.range, size)
}

/** `bytes START-LAST/SIZE` for a 206 of [start, end). */
export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end - 1}/${size}`
}

function isStrongEntityTag(tag: string): boolean {
  // entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc excludes DQUOTE, controls and space.
  return /^"[\x21\x23-\x7e\x80-\xff]*"$/.test(tag)
}

function full(reason: FullReason): RangeDecision {
  return { kind: 'full', reason }
}

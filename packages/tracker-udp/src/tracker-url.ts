// `udp://host:port/path?query` → where to send, and the BEP 41 URLData the tracker may need (passkeys
// live in the path or query of private trackers' URLs).
import { InvalidTrackerUrlError } from './errors.js'

export interface UdpTrackerUrl {
  /** Host name or IP literal, IPv6 without brackets. */
  host: string
  port: number
  /** Path and query exactly as written in the URL (no fragment); empty when there are none. */
  urlData: string
}

const AUTHORITY = /^udp:\/\/[^/?#]*/i

export function parseUdpTrackerUrl(url: string): UdpTrackerUrl {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new InvalidTrackerUrlError(url, 'not a URL')
  }
  if (parsed.protocol !== 'udp:')
    throw new InvalidTrackerUrlError(url, `scheme is ${parsed.protocol} not udp:`)
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname
  if (host === '') throw new InvalidTrackerUrlError(url, 'no host')
  // BEP 15 defines no default port, so a URL without one cannot be contacted.
  const port = Number(parsed.port)
  if (parsed.port === '' || port === 0) throw new InvalidTrackerUrlError(url, 'no port')
  const authority = AUTHORITY.exec(url)
  const rest = authority ? url.slice(authority[0].length) : ''
  const fragment = rest.indexOf('#')
  return { host, port, urlData: fragment < 0 ? rest : rest.slice(0, fragment) }
}

const URL_DATA_OPTION = 2
const MAX_OPTION_LENGTH = 255

/** BEP 41 options carrying `urlData`: type 2, a length byte, and at most 255 bytes per option. */
export function encodeUrlDataOptions(urlData: string): Uint8Array {
  const bytes = new TextEncoder().encode(urlData)
  const chunks = Math.ceil(bytes.length / MAX_OPTION_LENGTH)
  const out = new Uint8Array(bytes.length + 2 * chunks)
  let at = 0
  for (let from = 0; from < bytes.length; from += MAX_OPTION_LENGTH) {
    const chunk = bytes.subarray(from, from + MAX_OPTION_LENGTH)
    out[at++] = URL_DATA_OPTION
    out[at++] = chunk.length
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

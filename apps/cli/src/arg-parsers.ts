// Option value parsers shared by commands. They throw commander's InvalidArgumentError, which the
// program reports as a usage error (exit 2) naming the option.
import { type PeerAddress, parsePeerAddress } from '@bt/peer-address'
import { InvalidArgumentError } from 'commander'

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

/** A byte count: plain digits, or with a binary unit suffix: `262144`, `256k`, `256KiB`, `1M`, `1MB`. */
export function parseSize(text: string): number {
  const match = /^(\d+)\s*(?:([kmg])(?:i?b)?)?$/i.exec(text.trim())
  if (!match) throw new InvalidArgumentError(`'${text}' is not a size (e.g. 262144, 256K, 1M).`)
  const bytes = Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()]!
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`'${text}' is too large.`)
  return bytes
}

/**
 * BEP 12 tiers from repeated `-t` options, mktorrent style: each option is one tier, commas separate
 * the trackers inside it. `-t a,b -t c` → `[[a, b], [c]]`.
 */
export function collectTier(text: string, tiers: string[][] = []): string[][] {
  const tier = text
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '')
  if (tier.length === 0) throw new InvalidArgumentError('expected at least one tracker URL.')
  for (const url of tier) {
    if (!URL.canParse(url)) throw new InvalidArgumentError(`'${url}' is not a URL.`)
  }
  return [...tiers, tier]
}

/** Collects a repeatable URL option into a list, in command-line order. */
export function collectUrl(text: string, list: string[] = []): string[] {
  if (!URL.canParse(text)) throw new InvalidArgumentError(`'${text}' is not a URL.`)
  return [...list, text]
}

export function parsePort(text: string): number {
  const port = Number(text)
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidArgumentError(`'${text}' is not a port (1-65535).`)
  return port
}

/** A listen port: 0 asks the system for a free one. */
export function parseListenPort(text: string): number {
  return text === '0' ? 0 : parsePort(text)
}

export function parseCount(text: string): number {
  const count = Number(text)
  if (!Number.isInteger(count) || count < 1)
    throw new InvalidArgumentError(`'${text}' is not a positive integer.`)
  return count
}

/** `ip:port` or `[ipv6]:port`. */
export function parsePeer(text: string): PeerAddress {
  try {
    return parsePeerAddress(text)
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error))
  }
}

/** Repeatable `--peer ip:port`. */
export function collectPeer(text: string, peers: PeerAddress[] = []): PeerAddress[] {
  return [...peers, parsePeer(text)]
}

/** A positive number of seconds. */
export function parseSeconds(text: string): number {
  const seconds = Number(text)
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new InvalidArgumentError(`'${text}' is not a positive number.`)
  return seconds
}

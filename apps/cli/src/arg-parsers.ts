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

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 }

/** A duration in seconds: `90`, `45s`, `30m`, `1h30m`, `2d`. */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return parseSeconds(trimmed)
  const parts = [...trimmed.matchAll(/(\d+)([smhd])/g)]
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) {
    throw new InvalidArgumentError(`'${text}' is not a duration (e.g. 90, 45s, 30m, 1h30m).`)
  }
  const seconds = parts.reduce((sum, [, count, unit]) => sum + Number(count) * DURATION_UNITS[unit!]!, 0)
  if (seconds <= 0) throw new InvalidArgumentError(`'${text}' is not a positive duration.`)
  return seconds
}

/** A ratio ≥ 0, e.g. `1`, `2.5`. */
export function parseRatio(text: string): number {
  const ratio = Number(text)
  if (text.trim() === '' || !Number.isFinite(ratio) || ratio < 0)
    throw new InvalidArgumentError(`'${text}' is not a ratio (a number ≥ 0, e.g. 1 or 2.5).`)
  return ratio
}

/** `host:port` or `[ipv6]:port`, the host an IP or a DNS name (a DHT bootstrap node). */
export function parseHostPort(text: string): string {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s[\]]+):(\d+)$/.exec(text)
  const port = Number(match?.[2])
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`'${text}' is not host:port (e.g. router.example:6881 or 127.0.0.2:6881).`)
  }
  return text
}

/** Repeatable `host:port`. */
export function collectHostPort(text: string, list: string[] = []): string[] {
  return [...list, parseHostPort(text)]
}

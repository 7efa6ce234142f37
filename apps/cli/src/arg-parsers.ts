// Option value parsers shared by commands. They throw commander's InvalidArgumentError, which the
// program reports as a usage error (exit 2) naming the option.
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

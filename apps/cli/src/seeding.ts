// How long a command seeds: until Ctrl-C, or until its --seed-ratio or --seed-time limit is reached
// (client-core's `seedLimitReached`, the rule a session applies too).
import { type SeedLimits, seedLimitReached, type Torrent } from '@bt/client-core'
import type { Command } from 'commander'
import { parseDuration, parseRatio } from './arg-parsers.js'
import type { CliIo } from './context.js'
import { writeJson, writeLines } from './output.js'
import { formatBytes } from './progress.js'

export interface SeedLimitOptions {
  seedRatio?: number
  seedTime?: number
}

export function addSeedLimitOptions(command: Command): Command {
  return command
    .option(
      '--seed-ratio <ratio>',
      'stop seeding once uploaded ≥ ratio × the size (e.g. 1 or 2.5)',
      parseRatio,
    )
    .option(
      '--seed-time <duration>',
      'stop seeding after this long (e.g. 90, 45s, 30m, 1h30m)',
      parseDuration,
    )
}

export function seedLimitsOf(options: SeedLimitOptions): SeedLimits {
  return { ratio: options.seedRatio, seconds: options.seedTime }
}

export function hasSeedLimit(options: SeedLimitOptions): boolean {
  return options.seedRatio !== undefined || options.seedTime !== undefined
}

export type SeedEnd = 'ratio' | 'time' | 'interrupted'

/** Seeds from now until a limit is reached or `signal` aborts; checked on every progress tick. */
export function seedUntil(torrent: Torrent, limits: SeedLimits, signal: AbortSignal): Promise<SeedEnd> {
  const started = Date.now()
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined
    const finish = (end: SeedEnd) => {
      clearTimeout(timer)
      torrent.off('progress', check)
      signal.removeEventListener('abort', interrupted)
      resolve(end)
    }
    const check = () => {
      const { uploadedBytes, wantedBytes } = torrent.progress()
      const reached = seedLimitReached(limits, {
        uploadedBytes,
        wantedBytes,
        seedingMs: Date.now() - started,
      })
      if (reached) finish(reached)
    }
    const interrupted = () => finish('interrupted')
    if (signal.aborted) return interrupted()
    signal.addEventListener('abort', interrupted, { once: true })
    torrent.on('progress', check)
    if (limits.seconds !== undefined) timer = setTimeout(check, limits.seconds * 1000)
    check()
  })
}

/** Says why seeding stopped: a `seeding-done` JSON event, or one line for people. */
export function reportSeedEnd(io: CliIo, json: boolean, end: 'ratio' | 'time', torrent: Torrent): void {
  const { uploadedBytes, wantedBytes } = torrent.progress()
  if (json) {
    writeJson(io.stdout, { event: 'seeding-done', reason: end, uploadedBytes })
    return
  }
  const ratio = wantedBytes === 0 ? 0 : uploadedBytes / wantedBytes
  const why = end === 'ratio' ? `ratio ${ratio.toFixed(2)} reached` : 'seed time reached'
  writeLines(io.stdout, [`Stopped seeding: uploaded ${formatBytes(uploadedBytes)} (${why}).`])
}

// Progress of a download as people and scripts want it: a live line on a terminal (percent, rate, ETA,
// peers), a plain line every few seconds in a pipe, or one JSON event per update with --json.
import type { TorrentProgress } from '@bt/client-core'
import type { CliIo } from './context.js'
import { writeJson } from './output.js'
import { formatBytes } from './progress.js'

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet'

/** `--json`, `--quiet`, else a live line on a terminal or plain lines in a pipe. */
export function progressModeOf(options: { json?: boolean; quiet?: boolean }, io: CliIo): ProgressMode {
  if (options.json) return 'json'
  if (options.quiet) return 'quiet'
  return io.stderrIsTTY ? 'tty' : 'plain'
}

const PLAIN_INTERVAL_MS = 5000

export interface DownloadProgress {
  update(progress: TorrentProgress): void
  /** Clears the live line (before the final message). */
  finish(): void
}

export function createDownloadProgress(io: CliIo, mode: ProgressMode, label: string): DownloadProgress {
  let lastPlain = 0
  let drawn = false
  return {
    update(progress) {
      if (mode === 'quiet') return
      if (mode === 'json') {
        writeJson(io.stdout, { event: 'progress', ...progress })
        return
      }
      const line = describe(label, progress)
      if (mode === 'tty') {
        drawn = true
        io.stderr(`\r\x1b[2K${line}`)
        return
      }
      const now = Date.now()
      if (now - lastPlain >= PLAIN_INTERVAL_MS) {
        lastPlain = now
        io.stderr(`${line}\n`)
      }
    },
    finish() {
      if (drawn) io.stderr('\r\x1b[2K')
    },
  }
}

function describe(label: string, progress: TorrentProgress): string {
  const { verifiedBytes, wantedBytes, downloadRate, peers } = progress
  const percent = wantedBytes === 0 ? 100 : (verifiedBytes / wantedBytes) * 100
  const left = wantedBytes - verifiedBytes
  const eta = downloadRate > 0 ? formatDuration(left / downloadRate) : '--:--'
  return `${label} ${percent.toFixed(1)}% ${formatBytes(verifiedBytes)}/${formatBytes(wantedBytes)} ${formatBytes(downloadRate)}/s ETA ${eta} peers ${peers}`
}

export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const mm = String(m).padStart(2, '0')
  const ss = String(s).padStart(2, '0')
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`
}

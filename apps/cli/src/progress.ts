// A one-line progress display on stderr, redrawn in place on a terminal and silent elsewhere, so
// logs and pipes never fill with carriage returns.
import type { CliIo } from './context.js'

export interface ProgressLine {
  update(done: number, total: number): void
  /** Clears the line; call once the work is over, whether it succeeded or not. */
  finish(): void
}

const REDRAW_INTERVAL_MS = 100

export function createProgressLine(
  io: CliIo,
  label: string,
  options: { quiet?: boolean } = {},
): ProgressLine {
  if (!io.stderrIsTTY || options.quiet) return { update() {}, finish() {} }
  let lastDraw = 0
  let drawn = false
  return {
    update(done, total) {
      const now = Date.now()
      if (done < total && now - lastDraw < REDRAW_INTERVAL_MS) return
      lastDraw = now
      drawn = true
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100)
      io.stderr(`\r\x1b[2K${label} ${percent}% (${formatBytes(done)} / ${formatBytes(total)})`)
    },
    finish() {
      if (drawn) io.stderr('\r\x1b[2K')
    },
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} ${units[0]}` : `${value.toFixed(1)} ${units[unit]}`
}

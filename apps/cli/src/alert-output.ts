// How the engine's alerts reach people and scripts: with --json, every alert is one typed line
// (`{"event":"peer-banned","address":"1.2.3.4:6881","reason":…,"message":…}`); otherwise the few a
// person must know about (a ban, a stuck swarm, trackers all down) are one `bt: …` line on stderr.
import { type Alert, type AlertType, describeAlert } from '@bt/client-core'
import { formatPeerAddress, type PeerAddress } from '@bt/peer-address'
import type { CliIo } from './context.js'
import { displayText, writeJson } from './output.js'

/** Alerts worth a line on a person's terminal; the rest are in --json output only. */
const SHOWN: ReadonlySet<AlertType> = new Set(['peer-banned', 'peers-unreachable', 'all-trackers-failed'])

export interface AlertSource {
  on(event: 'alert', listener: (alert: Alert) => void): unknown
}

export type AlertMode = 'json' | 'human' | 'quiet'

/** Alerts follow the progress output: JSON lines with `--json`, none with `--quiet`, else for people. */
export function alertModeOf(mode: 'tty' | 'plain' | 'json' | 'quiet'): AlertMode {
  return mode === 'json' ? 'json' : mode === 'quiet' ? 'quiet' : 'human'
}

export function reportAlerts(source: AlertSource, io: CliIo, mode: AlertMode): void {
  if (mode === 'quiet') return
  source.on('alert', (alert) => {
    if (mode === 'json') writeJson(io.stdout, alertJson(alert))
    // On a terminal the live progress line is cleared first; the next update redraws it.
    else if (SHOWN.has(alert.type))
      io.stderr(`${io.stderrIsTTY ? '\r\x1b[2K' : ''}bt: ${displayText(describeAlert(alert))}\n`)
  })
}

/** A field of an alert as JSON carries it. */
type JsonField<T> = T extends PeerAddress
  ? string
  : T extends Error
    ? string
    : T extends readonly (infer U)[]
      ? JsonField<U>[]
      : T

/** One alert as a `--json` line: `event` is the alert's type, `message` the line people read. */
export type AlertJson = Alert extends infer A
  ? A extends Alert
    ? { event: A['type']; message: string } & { [K in Exclude<keyof A, 'type'>]: JsonField<A[K]> }
    : never
  : never

/** The alert as a JSON object: addresses as `ip:port`, errors as their message. */
export function alertJson(alert: Alert): AlertJson {
  const { type, ...fields } = alert
  const json: Record<string, unknown> = { event: type, message: describeAlert(alert) }
  for (const [key, value] of Object.entries(fields)) json[key] = jsonValue(value)
  return json as AlertJson
}

function jsonValue(value: unknown): unknown {
  if (value instanceof Error) return value.message
  if (Array.isArray(value)) return value.map(jsonValue)
  if (isPeerAddress(value)) return formatPeerAddress(value)
  return value
}

function isPeerAddress(value: unknown): value is PeerAddress {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PeerAddress).host === 'string' &&
    typeof (value as PeerAddress).port === 'number'
  )
}

// Errors the CLI raises itself, and how any error becomes a message and an exit code.
import { CommanderError } from 'commander'

/** Process exit codes: scripts rely on them (DESIGN §4). */
export const ExitCode = {
  ok: 0,
  /** The command ran and failed: bad torrent, I/O error, network failure. */
  failure: 1,
  /** The command line itself is wrong: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** Stopped by SIGINT (128 + 2, as shells report it). */
  interrupted: 130,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A failure whose message is complete for the user as it stands (`bt: <message>`). */
export class CliError extends Error {
  override readonly name: string = 'CliError'
}

/** The arguments make sense to the parser but not to the command (e.g. a value out of range). */
export class UsageError extends CliError {
  override readonly name = 'UsageError'
}

/** Node's system errors (`ENOENT` and friends) carry these fields. */
interface SystemError extends Error {
  code: string
  syscall: string
  path?: string
}

function isSystemError(err: Error): err is SystemError {
  const fields = err as Partial<SystemError>
  return typeof fields.code === 'string' && typeof fields.syscall === 'string'
}

/**
 * The reason part of a system error, without the code and syscall Node wraps around it:
 * `ENOENT: no such file or directory, open 'x'` → `no such file or directory`.
 */
export function systemErrorReason(err: Error): string {
  if (!isSystemError(err)) return err.message
  // Node says "illegal operation on a directory", which reads oddly for `bt info somedir`.
  if (err.code === 'EISDIR') return 'is a directory'
  let reason = err.message
  if (reason.startsWith(`${err.code}: `)) reason = reason.slice(err.code.length + 2)
  const syscallAt = reason.lastIndexOf(`, ${err.syscall}`)
  if (syscallAt > 0) reason = reason.slice(0, syscallAt)
  return reason
}

export function exitCodeFor(err: unknown, signal?: AbortSignal): ExitCode {
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage
  if (err instanceof UsageError) return ExitCode.usage
  if (signal?.aborted) return ExitCode.interrupted
  return ExitCode.failure
}

/** The one line printed on stderr for a failure, plus the stacks of it and its causes when `BT_DEBUG=1`. */
export function formatError(err: unknown, options: { debug: boolean; signal?: AbortSignal }): string {
  if (options.signal?.aborted) return 'bt: interrupted\n'
  if (!(err instanceof Error)) return `bt: ${String(err)}\n`
  let message = err.message
  if (isSystemError(err) && err.path !== undefined) message = `${err.path}: ${systemErrorReason(err)}`
  let details = ''
  if (options.debug) {
    for (
      let cause: unknown = err, depth = 0;
      cause instanceof Error && depth < 8;
      cause = cause.cause, depth++
    ) {
      details += `\n${depth === 0 ? '' : 'Caused by: '}${cause.stack ?? `${cause.name}: ${cause.message}`}`
    }
  }
  return `bt: ${message}${details}\n`
}

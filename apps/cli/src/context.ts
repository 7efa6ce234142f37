// What a command can reach besides its arguments, and the shape of a command module.
import type { Command } from 'commander'
import type { Write } from './output.js'

/** Everything a command may touch outside its arguments; injected so tests run commands in-process. */
export interface CliIo {
  stdout: Write
  stderr: Write
  /** Live progress is drawn only on a terminal. */
  stderrIsTTY: boolean
  /** Relative paths (arguments, default output files) resolve against this. */
  cwd: string
  env: Readonly<Record<string, string | undefined>>
  /**
   * Stdin to its end, for commands given `-` as their input. Stops early once it holds more than
   * `maxBytes`, so the caller can refuse oversized input without buffering all of it.
   */
  readStdin(maxBytes: number): Promise<Uint8Array>
}

export interface CommandContext {
  readonly io: CliIo
  /** Aborted on SIGINT: long-running work stops and the command exits with 130. */
  readonly signal: AbortSignal
}

/**
 * A command module adds itself to the program with `program.command(…)` (not `addCommand`, so it
 * inherits the program's output and exit handling) and does its work in `.action(…)`.
 */
export type RegisterCommand = (program: Command, context: CommandContext) => void

/** One of the names a command goes by: `info` and `magnet_info` are one command with two faces. */
export interface CommandVariant {
  name: string
  alias?: string
  description: string
  /** The first argument, name and help, e.g. `['<magnet>', 'a magnet: link']`. */
  argument: [name: string, help: string]
}

/** Registers one command under each variant; `define` adds the options, help and action they share. */
export function registerVariants(
  program: Command,
  context: CommandContext,
  variants: readonly CommandVariant[],
  define: (command: Command, context: CommandContext) => void,
): void {
  for (const variant of variants) {
    const command = program.command(variant.name)
    if (variant.alias !== undefined) command.alias(variant.alias)
    define(command.description(variant.description).argument(...variant.argument), context)
  }
}

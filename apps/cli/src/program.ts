// Builds the `bt` command line and runs it against injectable I/O, so tests drive every command in-process.
import { Command, CommanderError } from 'commander'
import { commands, commandsFor } from './commands/index.js'
import type { CliIo, CommandContext, RegisterCommand } from './context.js'
import { ExitCode, exitCodeFor, formatError } from './errors.js'
import { version } from './version.js'

const helpFooter = `
Exit codes: 0 success, 1 failure (bad input, I/O or network error), 2 usage error, 130 interrupted.
Set BT_DEBUG=1 to print stack traces with errors.
download, seed and stream encrypt peer connections (MSE/PE) as --encryption says: prefer (default),
require, allow or off.
Run 'bt <command> --help' for a command's options and output format.`

/** The program with these commands registered (see `commandsFor`). */
export function createProgram(context: CommandContext, commands: readonly RegisterCommand[]): Command {
  const { io } = context
  const program = new Command('bt')
    .description('A BitTorrent toolkit: inspect, create, download and seed torrents.')
    .version(version, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    // Set before any subcommand is added: `.command()` copies these settings to each subcommand.
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (message, write) => write(`bt: ${message.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', helpFooter)
  for (const register of commands) register(program, context)
  return program
}

/** Runs one command line (without `node` and the script path) and resolves with its exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  options: { signal?: AbortSignal } = {},
): Promise<ExitCode> {
  const signal = options.signal ?? new AbortController().signal
  const line = withDownloadShorthand(argv)
  try {
    const program = createProgram({ io, signal }, await commandsFor(line))
    await program.parseAsync(line, { from: 'user' })
    return ExitCode.ok
  } catch (err) {
    const code = exitCodeFor(err, signal)
    // Commander already printed its own message (or the help/version text).
    if (!(err instanceof CommanderError))
      io.stderr(formatError(err, { debug: io.env.BT_DEBUG === '1', signal }))
    return code
  }
}

/** `bt <file.torrent> -d DIR` is short for `bt download <file.torrent> -d DIR`. */
function withDownloadShorthand(argv: readonly string[]): readonly string[] {
  const first = argv[0]
  if (first === undefined || !/\.torrent$/i.test(first)) return argv
  return commands.some((entry) => entry.names.includes(first)) ? argv : ['download', ...argv]
}

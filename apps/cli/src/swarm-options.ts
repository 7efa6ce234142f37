// The options every command that joins a swarm shares (DHT, state dir, rate limits), kept apart from
// the client itself so that registering a command loads none of the engine.
import { join } from 'node:path'
import type { ClientInit } from '@bt/client-core'
import type { Command } from 'commander'
import { collectHostPort, parseListenPort } from './arg-parsers.js'
import type { CliIo } from './context.js'

export interface DhtOptionValues {
  /** false with --no-dht. */
  dht?: boolean
  dhtPort?: number
  dhtBootstrap?: string[]
  stateDir?: string
}

export function addDhtOptions(command: Command): Command {
  return command
    .option('--no-dht', 'do not use the DHT to find peers (BEP 5)')
    .option(
      '--dht-port <port>',
      'UDP port of the DHT node (default: the listen port number)',
      parseListenPort,
    )
    .option(
      '--dht-bootstrap <host:port>',
      'bootstrap the DHT from this node (repeatable; replaces the default routers)',
      collectHostPort,
    )
    .option(
      '--state-dir <dir>',
      'where the DHT state is kept (default: $XDG_STATE_HOME/bt or ~/.local/state/bt)',
    )
}

export interface UtpOptionValues {
  /** false with --no-utp. */
  utp?: boolean
}

/** `--no-utp`: the client's uTP socket (on the listen port number, UDP) stays closed. */
export function addUtpOption(command: Command): Command {
  return command.option(
    '--no-utp',
    'TCP only: no uTP (BEP 29). By default peers are accepted over TCP and uTP on the listen port ' +
      'number, and dialled over uTP first (TCP after 3 s unanswered); the DHT shares the UDP port',
  )
}

/** `--state-dir`, else `$XDG_STATE_HOME/bt`, else `~/.local/state/bt`; undefined when neither is known. */
export function stateDirOf(options: DhtOptionValues, io: CliIo): string | undefined {
  if (options.stateDir !== undefined) return options.stateDir
  if (io.env.XDG_STATE_HOME) return join(io.env.XDG_STATE_HOME, 'bt')
  if (io.env.HOME) return join(io.env.HOME, '.local', 'state', 'bt')
  return undefined
}

/** The client-wide rate limits of `--download-limit` / `--upload-limit`. */
export function rateLimits(options: { downloadLimit?: number; uploadLimit?: number }): ClientInit {
  return {
    ...(options.downloadLimit ? { downloadLimit: options.downloadLimit } : {}),
    ...(options.uploadLimit ? { uploadLimit: options.uploadLimit } : {}),
  }
}

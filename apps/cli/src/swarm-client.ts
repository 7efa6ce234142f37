// The client a swarm command runs: client-core's Client listening for peers and, unless --no-dht, a DHT
// node on the same port number over UDP (as libtorrent does), its id and good nodes kept in the state
// dir so the next run bootstraps without the routers. Under test no router is used unless named (see
// @bt/dht's bootstrapRouters), so nothing leaves loopback.
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { type Client, type ClientInit, createClient, type EncryptionPolicy } from '@bt/client-core'
import { createDht, type Dht, loadDhtState } from '@bt/dht'
import type { Command } from 'commander'
import { collectHostPort, parseEncryption, parseListenPort } from './arg-parsers.js'
import type { CliIo } from './context.js'
import { displayText } from './output.js'

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

export interface EncryptionOptionValues {
  encryption: EncryptionPolicy
}

export function addEncryptionOption(command: Command): Command {
  return command.option(
    '--encryption <policy>',
    'message stream encryption (MSE/PE): prefer (try encrypted, fall back to plain), require ' +
      '(encrypted only, RC4, both ways), allow (dial plain, accept both), off (plain only)',
    parseEncryption,
    'prefer',
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

export interface SwarmClient {
  readonly client: Client
  readonly port: number
  readonly dht: Dht | undefined
  /** Closes the client, then saves the DHT state and closes the node; once, however often called. */
  close(): Promise<void>
}

export async function openSwarmClient(init: {
  io: CliIo
  options: DhtOptionValues
  port: number
  host?: string | undefined
  client?: ClientInit
}): Promise<SwarmClient> {
  const { io, options } = init
  const client = createClient(init.client ?? {})
  let dht: Dht | undefined
  const statePath = (() => {
    const dir = stateDirOf(options, io)
    return dir === undefined ? undefined : join(dir, 'dht.json')
  })()
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      await client.close()
      if (!dht) return
      if (statePath) {
        await mkdir(dirname(statePath), { recursive: true }).catch(() => {})
        await dht.save(statePath).catch(() => {})
      }
      await dht.close()
    })()
    return closing
  }
  try {
    const port = await client.listen({ port: init.port, ...(init.host ? { host: init.host } : {}) })
    if (options.dht !== false) {
      const state = statePath ? await loadDhtState(statePath).catch(() => undefined) : undefined
      const node = createDht({
        port: options.dhtPort ?? port,
        ...(init.host ? { host: init.host } : {}),
        ...(state ? { state } : {}),
        ...(options.dhtBootstrap ? { bootstrap: options.dhtBootstrap } : {}),
      })
      try {
        // Bound, not bootstrapped: a download does not wait seconds for the DHT before it dials others.
        await node.listen()
        void node.start().catch((error: unknown) => {
          // Closing during the bootstrap ends it: that is no failure to report.
          if (closing !== undefined) return
          io.stderr(`bt: DHT: ${displayText(error instanceof Error ? error.message : String(error))}\n`)
        })
        dht = node
        client.useDht(node)
      } catch (error) {
        // A DHT that cannot start (its port taken) leaves the other peer sources working.
        await node.close().catch(() => {})
        io.stderr(`bt: DHT off: ${displayText(error instanceof Error ? error.message : String(error))}\n`)
      }
    }
    return { client, port, dht, close }
  } catch (error) {
    await close()
    throw error
  }
}

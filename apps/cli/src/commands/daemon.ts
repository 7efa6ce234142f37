// `bt daemon`: a long-running, persisted session of many torrents (`@bt/session`) driven through
// Transmission's RPC (`@bt/transmission-rpc`), so transmission-remote and Transmission's web UI work
// with it unchanged. SIGINT/SIGTERM stop every torrent cleanly (trackers told, resume data saved).
import { resolve } from 'node:path'
import { openSession, readSessionSettings, type SettingsChanges } from '@bt/session'
import { createRpcServer, type RpcCredentials } from '@bt/transmission-rpc'
import { InvalidArgumentError } from 'commander'
import { parseListenPort } from '../arg-parsers.js'
import type { RegisterCommand } from '../context.js'
import { rpcSession } from '../daemon/rpc-session.js'
import { addEncryptionOption, type EncryptionOptionValues } from '../encryption-option.js'
import { UsageError } from '../errors.js'
import { displayText, writeLines } from '../output.js'
import { formatBytes } from '../progress.js'
import { openSwarmClient } from '../swarm-client.js'
import {
  addDhtOptions,
  addUtpOption,
  type DhtOptionValues,
  stateDirOf,
  type UtpOptionValues,
} from '../swarm-options.js'
import { version } from '../version.js'

interface DaemonOptions extends DhtOptionValues, EncryptionOptionValues, UtpOptionValues {
  rpcHost: string
  rpcPort: number
  rpcAuth?: RpcCredentials
  rpcHostWhitelist?: string[]
  downloadDir?: string
  port?: number
  webUi?: string
}

const STATUS_INTERVAL_MS = 60_000

export const registerDaemon: RegisterCommand = (program, { io, signal }) => {
  const command = program.command('daemon')
  addDhtOptions(command)
  addEncryptionOption(command)
  addUtpOption(command)
  command
    .description("keep a persisted session of torrents running, driven by Transmission's RPC")
    .option('--rpc-host <address>', 'address the RPC server listens on', '127.0.0.1')
    .option('--rpc-port <port>', 'RPC port (0: any free port)', parseListenPort, 9091)
    .option('--rpc-auth <user:pass>', 'require HTTP Basic auth (needed to listen beyond loopback)', parseAuth)
    .option(
      '--rpc-host-whitelist <names>',
      'Host header names accepted besides the address itself (comma-separated)',
      (text: string) =>
        text
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean),
    )
    .option(
      '--download-dir <dir>',
      'default directory of new torrents (default: the saved setting, else the current directory)',
    )
    .option(
      '--port <port>',
      'BitTorrent listen port (0: any free port; default: the saved setting, else 51413)',
      parseListenPort,
    )
    .option(
      '--web-ui <dir>',
      "a web client to serve at /transmission/web/ (default: Transmission's, if installed)",
    )
    .addHelpText(
      'after',
      `
Output: "RPC on http://<host>:<port>/transmission/rpc" once listening, then a status line a minute.
Drive it with transmission-remote (transmission-remote 9091 -a file.torrent, -l, -t 1 -S) or Transmission's
web UI at http://<host>:<port>/transmission/web/. Its torrents, their resume data and settings live in
--state-dir (default $XDG_STATE_HOME/bt, else ~/.local/state/bt): a restart, even after kill -9, brings
every torrent back as it was. Settings changed through the RPC (speed limits, queue, seed limits, peer
limits, encryption…) are saved there too; --port, --download-dir, --no-dht and --encryption given
here replace the saved ones (--no-utp holds for this run only). A
peer-port, dht-enabled or pex-enabled change through the RPC applies at the next start.
SIGINT or SIGTERM stops every torrent cleanly and exits 0.`,
    )
    .action(async (options: DaemonOptions) => {
      const stateDir = stateDirOf(options, io)
      if (stateDir === undefined)
        throw new UsageError('give --state-dir (neither XDG_STATE_HOME nor HOME is set)')
      const warn = (error: Error) => io.stderr(`bt: ${displayText(error.message)}\n`)
      // Read quietly: openSession reads the file again and reports what is wrong with it, once.
      const saved = await readSessionSettings(stateDir, resolve(io.cwd), () => {})
      // What the command line says wins over what was saved, and is saved in turn.
      const overrides: SettingsChanges = {}
      if (options.port !== undefined) overrides.peerPort = options.port
      if (options.downloadDir !== undefined) overrides.downloadDir = resolve(io.cwd, options.downloadDir)
      if (command.getOptionValueSource('dht') === 'cli') overrides.dhtEnabled = options.dht !== false
      if (command.getOptionValueSource('encryption') === 'cli') overrides.encryption = options.encryption
      const swarm = await openSwarmClient({
        io,
        options: { ...options, dht: overrides.dhtEnabled ?? saved.dhtEnabled },
        port: overrides.peerPort ?? saved.peerPort,
        client: { utp: options.utp !== false },
      })
      // Ends on SIGINT/SIGTERM or Transmission's session-close.
      let requestClose = () => {}
      const stopped = new Promise<void>((done) => {
        requestClose = done
      })
      const onAbort = () => requestClose()
      if (signal.aborted) requestClose()
      else signal.addEventListener('abort', onAbort, { once: true })
      try {
        const session = await openSession({
          stateDir,
          downloadDir: resolve(io.cwd),
          settings: overrides,
          client: swarm.client,
          onWarning: warn,
        })
        const server = await createRpcServer({
          session: rpcSession({
            session,
            configDir: stateDir,
            listeningPort: swarm.port,
            onClose: () => requestClose(),
            version: `bt ${version}`,
          }),
          host: options.rpcHost,
          port: options.rpcPort,
          ...(options.rpcAuth ? { auth: options.rpcAuth } : {}),
          ...(options.rpcHostWhitelist ? { hostWhitelist: options.rpcHostWhitelist } : {}),
          ...(options.webUi ? { webUiDir: resolve(io.cwd, options.webUi) } : {}),
        }).catch(async (error: unknown) => {
          await session.close()
          throw new UsageError(error instanceof Error ? error.message : String(error))
        })
        writeLines(io.stdout, [`RPC on ${server.url}`])
        const timer = setInterval(() => {
          const torrents = session.torrents()
          const down = torrents.reduce((sum, t) => sum + (t.progress?.downloadRate ?? 0), 0)
          const up = torrents.reduce((sum, t) => sum + (t.progress?.uploadRate ?? 0), 0)
          io.stderr(`torrents ${torrents.length}  down ${formatBytes(down)}/s  up ${formatBytes(up)}/s\n`)
        }, STATUS_INTERVAL_MS)
        timer.unref()
        await stopped
        clearInterval(timer)
        await server.close()
        await session.close()
      } finally {
        signal.removeEventListener('abort', onAbort)
        await swarm.close()
      }
    })
}

function parseAuth(text: string): RpcCredentials {
  const at = text.indexOf(':')
  if (at <= 0) throw new InvalidArgumentError(`'${text}' is not user:password.`)
  return { username: text.slice(0, at), password: text.slice(at + 1) }
}

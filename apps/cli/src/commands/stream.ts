// `bt stream <torrent|magnet>`: downloads and serves over HTTP at once. Each file is a URL with byte
// ranges (players seek with them); a read waits for its pieces to be verified, and the pieces readers
// wait for are fetched first. Loopback only unless asked otherwise.
import { resolve } from 'node:path'
import type { Torrent } from '@bt/client-core'
import type { Metainfo } from '@bt/metainfo'
import { createStreamServer, isLoopbackHost, type StreamSource } from '@bt/stream-server'
import { InvalidArgumentError } from 'commander'
import { alertModeOf, reportAlerts } from '../alert-output.js'
import { collectPeer, parseCount, parseListenPort, parseSize } from '../arg-parsers.js'
import type { RegisterCommand } from '../context.js'
import { createDownloadProgress, progressModeOf } from '../download-progress.js'
import { addEncryptionOption, type EncryptionOptionValues } from '../encryption-option.js'
import { UsageError } from '../errors.js'
import { numberedFiles, selectedPriorities } from '../file-selection.js'
import { displayText, writeJson, writeLines } from '../output.js'
import { openFileStore } from '../stores.js'
import { openSwarmClient } from '../swarm-client.js'
import {
  addDhtOptions,
  addUtpOption,
  type DhtOptionValues,
  rateLimits,
  type UtpOptionValues,
} from '../swarm-options.js'
import { loadTorrent } from '../torrent-source.js'

interface StreamOptions extends DhtOptionValues, EncryptionOptionValues, UtpOptionValues {
  dir?: string
  file?: number
  httpHost: string
  httpPort: number
  allowRemote?: boolean
  port: number
  maxPeers: number
  peer: { host: string; port: number }[]
  downloadLimit?: number
  uploadLimit?: number
  json?: boolean
  quiet?: boolean
}

export const registerStream: RegisterCommand = (program, { io, signal }) => {
  const command = program.command('stream')
  addUtpOption(addEncryptionOption(addDhtOptions(command)))
  command
    .description('download a torrent and serve its files over HTTP while it downloads (seekable)')
    .argument('<torrent>', 'a .torrent file, or a magnet: link')
    .option(
      '-d, --dir <dir>',
      'directory that receives the content as DIR/<name> (default: the current directory)',
    )
    .option(
      '--file <n>',
      'download and stream only this file (numbered as bt info shows them)',
      parseFileNumber,
    )
    .option('--http-host <address>', 'address the HTTP server listens on', '127.0.0.1')
    .option('--http-port <port>', 'HTTP port (0: any free port)', parseListenPort, 0)
    .option(
      '--allow-remote',
      'let a non-loopback --http-host serve the files to every machine that reaches it',
    )
    .option(
      '--port <port>',
      'BitTorrent listen port (0: any free port, the one announced)',
      parseListenPort,
      0,
    )
    .option('--max-peers <n>', 'connected peers at most', parseCount, 50)
    .option('--peer <ip:port>', 'also dial this peer (repeatable)', collectPeer, [])
    .option('--download-limit <rate>', 'bytes per second at most, e.g. 2M (default: unlimited)', parseSize)
    .option(
      '--upload-limit <rate>',
      'bytes per second at most while serving peers (default: unlimited)',
      parseSize,
    )
    .option('--json', 'progress and events as JSON lines on stdout')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `
Output: "Streaming on http://<host>:<port>/" once listening (then, with --file, the file's URL). GET / lists
the files, each at /<n> and /<n>/<name>, with /playlist.m3u for players; every file answers byte ranges
(206), HEAD and If-Range. A read waits until its pieces are verified: never a byte that was not checked.
The pieces under each reader and a few seconds ahead are downloaded first; the rest keeps coming behind.
Runs (and seeds) until Ctrl-C. The server binds to loopback; another --http-host needs --allow-remote.`,
    )
    .action(async (source: string, options: StreamOptions) => {
      if (!isLoopbackHost(options.httpHost) && !options.allowRemote) {
        throw new UsageError(
          `--http-host ${options.httpHost} is not a loopback address: add --allow-remote to serve every machine that reaches it`,
        )
      }
      const swarm = await openSwarmClient({
        io,
        options,
        port: options.port,
        client: { ...rateLimits(options), encryption: options.encryption, utp: options.utp !== false },
      })
      const { client } = swarm
      const onAbort = () => void swarm.close()
      signal.addEventListener('abort', onAbort, { once: true })
      const mode = progressModeOf(options, io)
      const alerts = alertModeOf(mode)
      let progress: ReturnType<typeof createDownloadProgress> | undefined
      let server: Awaited<ReturnType<typeof createStreamServer>> | undefined
      try {
        const { meta, peers } = await loadTorrent(source, {
          io,
          signal,
          client,
          peers: options.peer,
          report: mode === 'tty' || mode === 'plain',
          alerts,
        })
        const filePriorities =
          options.file === undefined ? undefined : selectedPriorities(meta, { select: [options.file] })
        const store = await openFileStore(meta, { directory: resolve(io.cwd, options.dir ?? '.') }, signal)
        const torrent = client.add(meta, {
          store,
          seed: true,
          maxConnections: options.maxPeers,
          peers: [...options.peer, ...peers],
          ...(filePriorities ? { filePriorities } : {}),
        })
        reportAlerts(torrent, io, alerts)
        server = await createStreamServer({
          source: streamSource(meta, torrent),
          host: options.httpHost,
          port: options.httpPort,
          ...(options.allowRemote ? { allowNonLoopback: true } : {}),
        })
        if (options.json) {
          writeJson(io.stdout, {
            event: 'streaming',
            url: server.url,
            ...(options.file !== undefined ? { fileUrl: server.fileUrl(options.file) } : {}),
          })
        } else {
          writeLines(io.stdout, [
            `Streaming on ${server.url}`,
            ...(options.file !== undefined ? [server.fileUrl(options.file)] : []),
          ])
        }
        progress = createDownloadProgress(io, mode, displayText(meta.name))
        const shown = progress
        torrent.on('progress', (update) => shown.update(update))
        await new Promise<void>((done) => {
          if (signal.aborted) done()
          else signal.addEventListener('abort', () => done(), { once: true })
        })
      } finally {
        progress?.finish()
        signal.removeEventListener('abort', onAbort)
        await server?.close()
        await swarm.close()
      }
      signal.throwIfAborted()
    })
}

/** The torrent's files as the HTTP server numbers them (as `bt info` does), read from the torrent. */
function streamSource(meta: Metainfo, torrent: Torrent): StreamSource {
  const files = numberedFiles(meta)
  return {
    name: meta.name,
    files: files.map(({ number, file }) => ({
      index: number,
      path: file.path.join('/'),
      length: file.length,
    })),
    read: (number, start, end, options) => torrent.read(files[number]!.index, start, end, options),
  }
}

function parseFileNumber(text: string): number {
  const number = Number(text)
  if (!Number.isSafeInteger(number) || number < 0 || text.trim() === '') {
    throw new InvalidArgumentError(`'${text}' is not a file number (0, 1, …; see bt info).`)
  }
  return number
}

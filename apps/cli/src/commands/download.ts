// `bt download <torrent|magnet> [-d DIR | -o PATH]`: downloads a whole torrent from its swarm, verifying
// every piece; running it again resumes. Also reached as `bt <file.torrent> -d DIR` and `bt magnet_download`.
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { alertModeOf, reportAlerts } from '../alert-output.js'
import { collectPeer, parseCount, parseListenPort, parseSize } from '../arg-parsers.js'
import { type CommandContext, type RegisterCommand, registerVariants } from '../context.js'
import { createDownloadProgress, progressModeOf } from '../download-progress.js'
import { addEncryptionOption, type EncryptionOptionValues } from '../encryption-option.js'
import { UsageError } from '../errors.js'
import { fileList, parseFileList, selectedPriorities } from '../file-selection.js'
import { displayText, writeJson, writeLines } from '../output.js'
import { addSeedLimitOptions, hasSeedLimit, reportSeedEnd, seedLimitsOf, seedUntil } from '../seeding.js'
import { openFileStore } from '../stores.js'
import { openSwarmClient } from '../swarm-client.js'
import {
  addDhtOptions,
  addUtpOption,
  type DhtOptionValues,
  rateLimits,
  type UtpOptionValues,
} from '../swarm-options.js'
import { isMagnetLink, loadTorrent } from '../torrent-source.js'

export interface DownloadOptions extends DhtOptionValues, EncryptionOptionValues, UtpOptionValues {
  dir?: string
  output?: string
  port: number
  maxPeers: number
  peer: { host: string; port: number }[]
  json?: boolean
  quiet?: boolean
  seed?: boolean
  downloadLimit?: number
  uploadLimit?: number
  seedRatio?: number
  seedTime?: number
  select?: number[]
  exclude?: number[]
}

export const registerDownload: RegisterCommand = (program, context) =>
  registerVariants(
    program,
    context,
    [
      {
        name: 'download',
        description: 'download a torrent from its swarm, verifying every piece (run again to resume)',
        argument: ['<torrent>', 'a .torrent file, or a magnet: link'],
      },
      {
        name: 'magnet_download',
        alias: 'magnet-download',
        description: 'download a magnet link: its metadata from peers, then every piece, verified',
        argument: ['<magnet>', 'a magnet: link'],
      },
    ],
    defineDownload,
  )

function defineDownload(command: Command, { io, signal }: CommandContext): void {
  addSeedLimitOptions(command)
  addUtpOption(addEncryptionOption(addDhtOptions(command)))
    .option(
      '-d, --dir <dir>',
      'directory that receives the content as DIR/<name> (default: the current directory)',
    )
    .option('-o, --output <path>', 'exact output file (single-file torrents)')
    .option('--port <port>', 'listen port (0: any free port, the one announced)', parseListenPort, 0)
    .option('--max-peers <n>', 'connected peers at most', parseCount, 50)
    .option('--peer <ip:port>', 'also dial this peer (repeatable)', collectPeer, [])
    .option(
      '--select <list>',
      'download only these files, numbered as bt info shows them (e.g. 0,2-3)',
      parseFileList,
    )
    .option('--exclude <list>', 'download every file but these (e.g. 1,4-6)', parseFileList)
    .option('--json', 'progress and result as JSON lines on stdout')
    .option('-q, --quiet', 'no progress output')
    .option('--seed', 'keep seeding after the download completes, until Ctrl-C or a --seed-* limit')
    .option(
      '--download-limit <rate>',
      'bytes per second at most, e.g. 500K or 2M (default: unlimited)',
      parseSize,
    )
    .option(
      '--upload-limit <rate>',
      'bytes per second at most while serving, e.g. 500K (default: unlimited)',
      parseSize,
    )
    .addHelpText(
      'after',
      `
Output: "Downloaded <torrent> to <path>." once every piece is verified. With -d the content lands in
DIR/<name> (a file, or a folder for multi-file torrents); with -o the single file is written to exactly PATH.
Progress: a live line on a terminal (percent, rate, ETA, peers), a plain line every 5 s otherwise,
JSON events with --json. Ctrl-C stops cleanly (trackers are told, resume data saved); running the same
command again resumes without re-downloading verified pieces.
A magnet link's metadata is fetched from its swarm first (trackers, x.pe peers, --peer) and checked
against its info hash (--json: a first "metadata" event with infoHash, name and length); 'bt download'
and 'bt magnet_download' take either.
--select/--exclude choose files by the numbers bt info shows: skipped files are never created (pieces
they share with a wanted file are fetched, and kept out of them); progress counts the chosen files.
--seed-ratio R or --seed-time T (which imply --seed) stop seeding, exit 0, once uploaded ≥ R × the size
or after T of seeding ("Stopped seeding: …"; --json: a "seeding-done" event).`,
    )
    .action(async (source: string, options: DownloadOptions) => {
      await download(source, options, io, signal)
    })
}

async function download(
  source: string,
  options: DownloadOptions,
  io: Parameters<RegisterCommand>[1]['io'],
  signal: AbortSignal,
): Promise<void> {
  if (options.dir !== undefined && options.output !== undefined)
    throw new UsageError('give -d or -o, not both')
  // Listening first: trackers (and a magnet's swarm) learn the port we really accept peers on.
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
  let progress: ReturnType<typeof createDownloadProgress> | undefined
  try {
    const { meta, peers } = await loadTorrent(source, {
      io,
      signal,
      client,
      peers: options.peer,
      report: mode === 'tty' || mode === 'plain',
      alerts: alertModeOf(mode),
    })
    if (options.json && isMagnetLink(source)) {
      writeJson(io.stdout, {
        event: 'metadata',
        infoHash: meta.infoHash,
        name: meta.name,
        length: meta.length,
      })
    }
    if (options.output !== undefined && meta.multiFile) {
      throw new UsageError(`-o names one file, but ${displayText(meta.name)} is a multi-file torrent: use -d`)
    }
    const target =
      options.output !== undefined
        ? { contentPath: resolve(io.cwd, options.output) }
        : { directory: resolve(io.cwd, options.dir ?? '.') }
    const destination = 'contentPath' in target ? target.contentPath : join(target.directory, meta.name)
    const store = await openFileStore(meta, target, signal)
    progress = createDownloadProgress(io, mode, displayText(meta.name))
    const seed = options.seed === true || hasSeedLimit(options)
    const filePriorities = selectedPriorities(meta, options)
    const torrent = client.add(meta, {
      store,
      maxConnections: options.maxPeers,
      peers: [...options.peer, ...peers],
      ...(seed ? { seed: true } : {}),
      ...(filePriorities ? { filePriorities } : {}),
    })
    if (options.json) writeJson(io.stdout, { event: 'files', files: fileList(meta, torrent) })
    const shown = progress
    torrent.on('progress', (update) => shown.update(update))
    reportAlerts(torrent, io, alertModeOf(mode))
    await torrent.done
    progress.finish()
    if (options.json) writeJson(io.stdout, { event: 'done', torrent: source, path: destination })
    else writeLines(io.stdout, [`Downloaded ${source} to ${destination}.`])
    if (seed) {
      // Seeding goes on until a limit, or Ctrl-C (which makes the command exit 130, as any interruption).
      const end = await seedUntil(torrent, seedLimitsOf(options), signal)
      if (end === 'interrupted') signal.throwIfAborted()
      else reportSeedEnd(io, options.json === true, end, torrent)
    }
  } finally {
    progress?.finish()
    signal.removeEventListener('abort', onAbort)
    await swarm.close()
  }
}

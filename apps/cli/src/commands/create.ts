// `bt create <path>`: hash a file or directory into a new .torrent file.
import { stat, writeFile } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { createTorrent, parseTorrent, toMagnet } from '@bt/metainfo'
import { collectTier, collectUrl, parseSize } from '../arg-parsers.js'
import type { RegisterCommand } from '../context.js'
import { CliError, systemErrorReason, UsageError } from '../errors.js'
import { displayText, writeJson, writeLines } from '../output.js'
import { createProgressLine } from '../progress.js'

interface CreateOptions {
  tracker?: string[][]
  output?: string
  pieceLength?: number
  private?: boolean
  webSeed?: string[]
  comment?: string
  name?: string
  source?: string
  creationDate: boolean
  force?: boolean
  json?: boolean
  quiet?: boolean
}

export const registerCreate: RegisterCommand = (program, { io, signal }) => {
  program
    .command('create')
    .description('create a .torrent file from a file or a directory')
    .argument('<path>', 'the file (single-file torrent) or directory (multi-file torrent) to share')
    .option(
      '-t, --tracker <url[,url…]>',
      'tracker URL; repeat for more tiers, commas separate trackers of one tier',
      collectTier,
    )
    .option(
      '-o, --output <file>',
      'where to write the torrent (default: <name>.torrent in the current directory)',
    )
    .option(
      '--piece-length <size>',
      'piece length: a power of two from 16K to 256M (default: chosen from the size)',
      parseSize,
    )
    .option('--private', 'mark the torrent private (BEP 27): peers only from its trackers')
    .option('-w, --web-seed <url>', 'web seed URL (BEP 19); repeatable', collectUrl)
    .option('-c, --comment <text>', 'a free-form comment')
    .option('-n, --name <name>', 'the torrent name (default: the file or directory name)')
    .option('-s, --source <text>', "'source' field in the info dictionary (private trackers use it)")
    .option(
      '--no-creation-date',
      'leave out the creation date (same content and options give the same bytes)',
    )
    .option('-f, --force', 'overwrite the output file if it exists')
    .option('-q, --quiet', 'no progress display')
    .option('--json', 'print one JSON object instead of lines')
    .addHelpText(
      'after',
      `
Output:
  Info Hash: <40 hex digits>
  Torrent: <path of the written .torrent>
  Magnet: <magnet URI: info hash, name, trackers and web seeds>
--json prints one object on one line: infoHash, torrent, magnet, name, length, pieceLength,
pieceCount, fileCount.

Files of a directory are ordered as mktorrent orders them, so both give the same info hash.
Progress is shown on stderr when it is a terminal.

Examples:
  $ bt create ./photos -t http://tracker.example/announce
  $ bt create big.iso -t udp://a.example:6969,udp://b.example:6969 -t http://c.example/announce \\
      --piece-length 1M -o big.torrent`,
    )
    .action(async (path: string, options: CreateOptions) => {
      const tiers = options.tracker ?? []
      const inputPath = resolve(io.cwd, path)
      await checkReadable(path, inputPath)
      // Checked before hashing too, so a long hash is not wasted on an output we cannot write.
      // (The default name is the one `createTorrent` gives: `--name`, else the input's base name.)
      const plannedOutput = options.output ?? `${options.name ?? basename(inputPath)}.torrent`
      await checkOutput(plannedOutput, resolve(io.cwd, plannedOutput), options.force === true)

      const progress = createProgressLine(io, 'Hashing', { quiet: options.quiet })
      const { torrent } = await createTorrent(inputPath, {
        name: options.name,
        announce: tiers,
        pieceLength: options.pieceLength,
        private: options.private,
        source: options.source,
        webSeeds: options.webSeed ?? [],
        comment: options.comment,
        creationDate: options.creationDate ? new Date() : undefined,
        signal,
        onProgress: (done, total) => progress.update(done, total),
      })
        .catch((err: unknown) => {
          throw asUsageError(err)
        })
        .finally(() => progress.finish())

      // Read back what was written: the name, trackers and web seeds as any client will see them.
      const meta = parseTorrent(torrent)
      const output = options.output ?? `${meta.name}.torrent`
      await writeTorrent(output, resolve(io.cwd, output), torrent, options.force === true, signal)
      const magnet = toMagnet(meta)
      if (meta.announceList.length === 0) {
        io.stderr(
          'bt: warning: no tracker (-t): peers can find this torrent only through DHT or peer exchange\n',
        )
      }
      if (options.json) {
        writeJson(io.stdout, {
          infoHash: meta.infoHash,
          torrent: output,
          magnet,
          name: meta.name,
          length: meta.length,
          pieceLength: meta.pieceLength,
          pieceCount: meta.pieceCount,
          fileCount: meta.files.length,
        })
      } else {
        writeLines(io.stdout, [
          `Info Hash: ${meta.infoHash}`,
          `Torrent: ${displayText(output)}`,
          `Magnet: ${magnet}`,
        ])
      }
    })
}

async function checkReadable(shown: string, path: string): Promise<void> {
  try {
    await stat(path)
  } catch (err) {
    throw new CliError(`${shown}: ${systemErrorReason(err as Error)}`, { cause: err })
  }
}

/** Fails early if the output could not be written: it exists (without --force), or its directory does not. */
async function checkOutput(shown: string, path: string, force: boolean): Promise<void> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  )
  if (exists && !force) throw new CliError(`${shown} already exists (use --force to overwrite it)`)
  const directory = await stat(dirname(path)).catch(() => undefined)
  if (!directory?.isDirectory()) throw new CliError(`cannot write ${shown}: no such directory`)
}

async function writeTorrent(
  shown: string,
  path: string,
  bytes: Uint8Array,
  force: boolean,
  signal: AbortSignal,
): Promise<void> {
  try {
    // `wx` fails if the file appeared while we were hashing: never clobber without --force.
    await writeFile(path, bytes, { flag: force ? 'w' : 'wx', signal })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(`${shown} already exists (use --force to overwrite it)`, { cause: err })
    }
    if (err instanceof Error && err.name !== 'AbortError') {
      throw new CliError(`cannot write ${shown}: ${systemErrorReason(err)}`, { cause: err })
    }
    throw err
  }
}

/** An option `createTorrent` refuses (piece length, name, URL) is the user's command line at fault. */
function asUsageError(err: unknown): unknown {
  if (
    err instanceof Error &&
    err.name === 'CreateTorrentError' &&
    (err as { code?: string }).code === 'INVALID_OPTION'
  ) {
    return new UsageError(err.message, { cause: err })
  }
  return err
}

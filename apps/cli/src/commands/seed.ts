// `bt seed <torrent|magnet> <path>`: checks the content on disk, then serves it to the swarm until Ctrl-C.
import { resolve } from 'node:path'
import { reportAlerts } from '../alert-output.js'
import { collectPeer, parseCount, parseListenPort, parseSize } from '../arg-parsers.js'
import type { RegisterCommand } from '../context.js'
import { addEncryptionOption, type EncryptionOptionValues } from '../encryption-option.js'
import { CliError } from '../errors.js'
import { displayText, writeJson, writeLines } from '../output.js'
import { formatBytes } from '../progress.js'
import { addSeedLimitOptions, reportSeedEnd, seedLimitsOf, seedUntil } from '../seeding.js'
import { openFileStore } from '../stores.js'
import { openSwarmClient } from '../swarm-client.js'
import { addDhtOptions, addUtpOption, type DhtOptionValues, type UtpOptionValues } from '../swarm-options.js'
import { loadTorrent } from '../torrent-source.js'
import { locateContent } from './verify.js'

interface SeedOptions extends DhtOptionValues, EncryptionOptionValues, UtpOptionValues {
  port: number
  host?: string
  maxPeers: number
  uploadSlots: number
  peer: { host: string; port: number }[]
  uploadLimit?: number
  json?: boolean
  quiet?: boolean
  seedRatio?: number
  seedTime?: number
}

const STATUS_INTERVAL_MS = 5000

export const registerSeed: RegisterCommand = (program, { io, signal }) => {
  const command = program.command('seed')
  addSeedLimitOptions(command)
  addUtpOption(addEncryptionOption(addDhtOptions(command)))
  command
    .description('check content against a torrent and serve it to the swarm until Ctrl-C')
    .argument('<torrent>', 'a .torrent file, or a magnet: link (its metadata is fetched from the swarm)')
    .argument('<path>', 'the directory holding the content (DIR/<name>), or the content itself')
    .option('--port <port>', 'listen port (0: any free port, the one announced)', parseListenPort, 0)
    .option('--host <address>', 'listen address (default: every interface)')
    .option('--max-peers <n>', 'connected peers at most', parseCount, 50)
    .option('--upload-slots <n>', 'peers served at once (plus one optimistic unchoke)', parseCount, 8)
    .option('--peer <ip:port>', 'also dial this peer (repeatable)', collectPeer, [])
    .option(
      '--upload-limit <rate>',
      'bytes per second at most, e.g. 500K or 2M (default: unlimited)',
      parseSize,
    )
    .option('--json', 'status as JSON lines on stdout')
    .option('-q, --quiet', 'no status output')
    .addHelpText(
      'after',
      `
Output: "Seeding <name> on port <port>." once the content is verified (resume data is trusted only for
files unchanged since it was written), then a status line every 5 s (peers, upload rate, uploaded)
unless --quiet. Incomplete content is an error (exit 1): download it first. Ctrl-C tells the trackers
we leave ("stopped") and exits 130. --seed-ratio R / --seed-time T stop it (exit 0) once uploaded ≥ R ×
the size or after T ("Stopped seeding: …"; --json: a "seeding-done" event).`,
    )
    .action(async (source: string, path: string, options: SeedOptions) => {
      const swarm = await openSwarmClient({
        io,
        options,
        port: options.port,
        host: options.host,
        client: {
          ...(options.uploadLimit ? { uploadLimit: options.uploadLimit } : {}),
          encryption: options.encryption,
          utp: options.utp !== false,
        },
      })
      const { client, port } = swarm
      const onAbort = () => void swarm.close()
      signal.addEventListener('abort', onAbort, { once: true })
      const alerts = options.json ? 'json' : options.quiet ? 'quiet' : 'human'
      try {
        const { meta, peers } = await loadTorrent(source, {
          io,
          signal,
          client,
          peers: options.peer,
          report: !options.quiet && !options.json,
          alerts,
        })
        const target = await locateContent(meta.name, meta.multiFile, resolve(io.cwd, path))
        const store = await openFileStore(meta, target, signal)
        if (!store.have.complete) {
          const have = store.have.count
          await store.close()
          throw new CliError(
            `${displayText(meta.name)} is incomplete at ${path} (${have}/${meta.pieceCount} pieces verified): run bt download first`,
          )
        }
        const torrent = client.add(meta, {
          store,
          seed: true,
          maxConnections: options.maxPeers,
          uploadSlots: options.uploadSlots,
          peers: [...options.peer, ...peers],
        })
        if (options.json) writeJson(io.stdout, { event: 'seeding', infoHash: meta.infoHash, port })
        else writeLines(io.stdout, [`Seeding ${displayText(meta.name)} on port ${port}.`])
        let lastStatus = 0
        torrent.on('progress', (progress) => {
          if (options.quiet) return
          if (options.json) {
            writeJson(io.stdout, { event: 'progress', ...progress })
            return
          }
          const now = Date.now()
          if (now - lastStatus < STATUS_INTERVAL_MS) return
          lastStatus = now
          io.stderr(
            `peers ${progress.peers}  upload ${formatBytes(progress.uploadRate)}/s  uploaded ${formatBytes(progress.uploadedBytes)}\n`,
          )
        })
        reportAlerts(torrent, io, alerts)
        const end = await seedUntil(torrent, seedLimitsOf(options), signal)
        if (end !== 'interrupted') reportSeedEnd(io, options.json === true, end, torrent)
      } finally {
        signal.removeEventListener('abort', onAbort)
        await swarm.close()
      }
      signal.throwIfAborted()
    })
}

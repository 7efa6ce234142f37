// `bt-seeder <path> [--tracker URL] [--port N] [--host ADDR] [--out FILE]`: makes a torrent of a file
// or folder, starts a loopback tracker unless one is given, seeds until Ctrl-C.
import { basename, resolve } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import packageJson from '../package.json' with { type: 'json' }
import { startSeeder } from './seeder.js'

interface CliOptions {
  tracker?: string
  port: number
  host: string
  out?: string
  quiet?: boolean
}

function parsePort(text: string): number {
  const port = Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`'${text}' is not a port (0-65535).`)
  return port
}

const STATUS_INTERVAL_MS = 5000

const program = new Command('bt-seeder')
  .version(packageJson.version)
  .description('make a torrent of a file or folder and seed it (with a tracker on loopback unless --tracker)')
  .argument('<path>', 'the file or folder to seed')
  .option('--tracker <url>', 'announce to this tracker instead of starting one')
  .option('--port <port>', 'listen port for peers (0: any free port)', parsePort, 0)
  .option('--host <address>', 'listen address for peers and the local tracker', '127.0.0.1')
  .option('--out <file>', 'where to write the .torrent (default: ./<name>.torrent)')
  .option('-q, --quiet', 'no status lines')
  .action(async (path: string, options: CliOptions) => {
    const controller = new AbortController()
    const stop = () => controller.abort(new Error('interrupted'))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    const seeder = await startSeeder(
      {
        path,
        port: options.port,
        host: options.host,
        torrentPath: resolve(options.out ?? `${basename(resolve(path))}.torrent`),
        ...(options.tracker !== undefined ? { trackerUrl: options.tracker } : {}),
      },
      { signal: controller.signal },
    )
    console.log(`Torrent: ${seeder.torrentPath}`)
    console.log(`Magnet:  ${seeder.magnet}`)
    console.log(`Tracker: ${seeder.trackerUrl}`)
    console.log(`Seeding ${seeder.name} on ${seeder.host}:${seeder.port}. Ctrl-C to stop.`)
    let lastStatus = 0
    seeder.torrent.on('progress', (progress) => {
      const now = Date.now()
      if (options.quiet || now - lastStatus < STATUS_INTERVAL_MS) return
      lastStatus = now
      console.error(`peers ${progress.peers}  uploaded ${(progress.uploadedBytes / 1e6).toFixed(1)} MB`)
    })
    await new Promise((done) => {
      if (controller.signal.aborted) done(undefined)
      else controller.signal.addEventListener('abort', done, { once: true })
    })
    await seeder.stop()
    process.exitCode = 130
  })

await program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
})

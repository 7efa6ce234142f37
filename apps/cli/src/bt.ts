// The `bt` executable: real process I/O around runCli, and the process-level concerns (SIGINT, EPIPE).
import { runCli } from './program.js'

const controller = new AbortController()
// The first Ctrl-C asks the running command to stop cleanly; a second one kills the process as usual.
process.once('SIGINT', () => controller.abort())
// SIGTERM (a service manager, `kill`) stops as cleanly: `bt daemon` saves its session and exits 0.
process.once('SIGTERM', () => controller.abort())

// `bt info big.torrent | head` closes our stdout early: that is the reader's choice, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
  process.exit(process.exitCode ?? 0)
})

process.exitCode = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    cwd: process.cwd(),
    env: process.env,
    async readStdin(maxBytes) {
      const chunks: Buffer[] = []
      let length = 0
      for await (const chunk of process.stdin) {
        chunks.push(chunk as Buffer)
        length += (chunk as Buffer).length
        if (length > maxBytes) break
      }
      return new Uint8Array(Buffer.concat(chunks))
    },
  },
  { signal: controller.signal },
)

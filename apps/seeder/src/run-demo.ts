// `pnpm demo [--size 256MiB]` (or BT_DEMO_SIZE): see demo.ts. Exit 0 when the bytes match, 1 otherwise,
// 130 on Ctrl-C.
import { parseArgs } from 'node:util'
import { DEFAULT_DEMO_SIZE, formatSize, parseSize, runDemo } from './demo.js'

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { size: { type: 'string' } }, strict: true })
  const sizeText = values.size ?? process.env.BT_DEMO_SIZE
  const sizeBytes = sizeText === undefined ? DEFAULT_DEMO_SIZE : parseSize(sizeText)
  const controller = new AbortController()
  const interrupt = () => controller.abort(new Error('interrupted'))
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    const result = await runDemo(
      { sizeBytes, log: (line) => console.log(line) },
      { signal: controller.signal },
    )
    console.log(`SHA-1 ${result.sha1} matches: the download is byte-for-byte the source.`)
    console.log(
      `Downloaded ${formatSize(result.sizeBytes)} in ${result.seconds.toFixed(2)} s: ${(result.bytesPerSecond / 1e6).toFixed(1)} MB/s.`,
    )
    return 0
  } catch (error) {
    if (controller.signal.aborted) {
      console.error('Interrupted; temporary files removed.')
      return 130
    }
    console.error(error instanceof Error ? error.message : String(error))
    return 1
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
  }
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error))
  return 1
})

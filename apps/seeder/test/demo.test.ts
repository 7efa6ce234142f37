import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { btDownloader, runDemo } from '../src/demo.js'
import { DemoError } from '../src/errors.js'

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
// tsx is a root devDependency: `bt` runs from its sources, as the built one would run.
const tsxLoader = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('tsx')).href
const btFromSources = btDownloader([
  process.execPath,
  '--conditions=@bt/source',
  '--import',
  tsxLoader,
  join(repoRoot, 'apps', 'cli', 'src', 'bt.ts'),
])

describe('runDemo', () => {
  it('downloads the payload with the real bt command and verifies it', { timeout: 60_000 }, async () => {
    const lines: string[] = []
    const result = await runDemo({
      sizeBytes: 8 * 1024 * 1024,
      downloader: btFromSources,
      log: (l) => lines.push(l),
    })
    expect(result.sizeBytes).toBe(8 * 1024 * 1024)
    expect(result.sha1).toMatch(/^[0-9a-f]{40}$/)
    expect(result.seconds).toBeGreaterThan(0)
    expect(result.bytesPerSecond).toBeGreaterThan(0)
    expect(lines.some((line) => line.startsWith('Magnet: magnet:?xt=urn:btih:'))).toBe(true)
  })

  it('fails when the downloaded bytes differ from the source', async () => {
    const { writeFile, mkdir } = await import('node:fs/promises')
    const corrupt = runDemo({
      sizeBytes: 64 * 1024,
      downloader: async ({ directory }) => {
        await mkdir(directory, { recursive: true })
        await writeFile(join(directory, 'bt-demo.bin'), Buffer.alloc(64 * 1024))
      },
    })
    await expect(corrupt).rejects.toThrow(/SHA-1 mismatch/)
    await expect(corrupt).rejects.toBeInstanceOf(DemoError)
  })

  it('fails when bt download does not succeed', async () => {
    const failing = btDownloader([process.execPath, '-e', 'process.exit(3)'])
    await expect(runDemo({ sizeBytes: 64 * 1024, downloader: failing })).rejects.toThrow(/exited with 3/)
  })
})

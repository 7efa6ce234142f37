// Rate-limit options parse sizes and refuse anything else as a usage error (exit 2).
import { describe, expect, it } from 'vitest'
import { runBt } from './run-bt.js'

describe('--download-limit / --upload-limit', () => {
  it.each([
    ['download', 'x.torrent', '--download-limit', 'fast'],
    ['download', 'x.torrent', '--upload-limit', '-1'],
    ['seed', 'x.torrent', '.', '--upload-limit', '1.5M'],
  ])('rejects a rate that is not a size: bt %s', async (...args) => {
    const result = await runBt(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/is not a size/)
  })

  it('documents both limits in the download help', async () => {
    const result = await runBt(['download', '--help'])
    expect(result.stdout).toContain('--download-limit <rate>')
    expect(result.stdout).toContain('--upload-limit <rate>')
  })
})

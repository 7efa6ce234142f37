// The real executable as a shell runs it: exit codes, stdout and stderr of a separate process.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { withTempDir } from '@bt/test-helpers'
import { describe, expect, it } from 'vitest'
import { cliRoot, fixture, spawnBt, tsxLoader } from './run-bt.js'

const { version } = JSON.parse(readFileSync(join(cliRoot, 'package.json'), 'utf8')) as { version: string }

describe('bt as a process', { timeout: 60_000 }, () => {
  it('decodes and exits 0', async () => {
    expect(await spawnBt(['decode', 'd3:foo3:bar5:helloi52ee'])).toEqual({
      code: 0,
      stdout: '{"foo":"bar","hello":52}\n',
      stderr: '',
    })
  })

  it('exits 1 with one line and no stack trace on bad input, and a stack with BT_DEBUG=1', async () => {
    const plain = await spawnBt(['decode', '5:abc'])
    expect(plain.code).toBe(1)
    expect(plain.stdout).toBe('')
    expect(plain.stderr).toMatch(/^bt: bencode: [^\n]+ at byte 0\n$/)
    const debug = await spawnBt(['decode', '5:abc'], { env: { BT_DEBUG: '1' } })
    expect(debug.code).toBe(1)
    expect(debug.stderr).toMatch(/^bt: bencode: [^\n]+\nBencodeDecodeError: [^\n]+\n\s+at /)
  })

  it('exits 2 on a usage error', async () => {
    const result = await spawnBt(['frobnicate'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain("bt: unknown command 'frobnicate'")
  })

  it('prints a torrent and its version', async () => {
    const info = await spawnBt(['info', fixture('wt-alice.torrent')])
    expect(info.code).toBe(0)
    expect(info.stdout).toMatch(
      /^Tracker URL: \nLength: 163783\nInfo Hash: 722fe65b2aa26d14f35b4ad627d20236e481d924\nPiece Length: 16384\nPiece Hashes:\n([0-9a-f]{40}\n){10}Name: alice.txt\n/,
    )
    expect(await spawnBt(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('reads a torrent from stdin', async () => {
    const result = await spawnBt(['info', '--json', '-'], {
      stdin: readFileSync(fixture('trackerless.torrent')),
    })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).infoHash).toBe('1dc8b6dbbb81c58b71220e20908245f8f565433f')
  })

  it('exits quietly when its reader closes the pipe early (bt info | head)', async () => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@bt/source',
        '--import',
        tsxLoader,
        join(cliRoot, 'src', 'bt.ts'),
        'info',
        fixture('bittorrent-v2-hybrid-test.torrent'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child.stdout.destroy()
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
  })

  it('creates a torrent, then refuses to overwrite it with exit 1', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'hello.txt'), 'hello, world\n')
      const args = ['create', 'hello.txt', '-t', 'http://127.0.0.1:1/announce']
      const first = await spawnBt(args, { cwd: dir })
      expect(first.code).toBe(0)
      expect(first.stdout).toMatch(
        /^Info Hash: [0-9a-f]{40}\nTorrent: hello.txt.torrent\nMagnet: magnet:\?xt=urn:btih:/,
      )
      const second = await spawnBt(args, { cwd: dir })
      expect(second).toEqual({
        code: 1,
        stdout: '',
        stderr: 'bt: hello.txt.torrent already exists (use --force to overwrite it)\n',
      })
    })
  })
})

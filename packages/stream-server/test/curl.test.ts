// curl as a real HTTP client: exact bytes of ranges, HEAD, 416, resumed downloads, the Host check.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describeWithTools, runProgram, runProgramOk, withTempDir } from '@bt/test-helpers'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createStreamServer, type StreamServer } from '../src/index.js'
import { type PiecedSource, patternBytes, piecedSource } from './pieced-source.js'

const video = patternBytes(300_000, 11)
const curl = (...args: string[]) =>
  runProgramOk('curl', ['--silent', '--show-error', '--noproxy', '*', ...args])

describeWithTools(['curl'], 'curl against the stream server', () => {
  let source: PiecedSource
  let server: StreamServer
  beforeEach(async () => {
    // Pieces arrive shortly after curl first asks for them, as in a torrent that follows the reader.
    source = piecedSource('clips', [{ path: 'clips/ünïcode clip.webm', bytes: video }], {
      pieceLength: 32_768,
      release: { kind: 'on-demand', delayMs: 5 },
    })
    server = await createStreamServer({ source })
  })
  afterEach(async () => {
    source.stop()
    await server.close()
  })

  it.each([
    ['0-0', 0, 1],
    ['100-199', 100, 200],
    ['32767-32768', 32767, 32769],
    ['150000-', 150_000, 300_000],
    ['-1000', 299_000, 300_000],
    ['299999-400000', 299_999, 300_000],
  ])('-r %s gets exactly those bytes', async (range, start, end) => {
    const body = await curl('--fail', '-r', range, server.fileUrl(0))
    expect(Buffer.compare(body, video.subarray(start, end))).toBe(0)
  })

  it('downloads the whole file by its name and by its index', async () => {
    for (const url of [server.fileUrl(0), `${server.url}0`]) {
      expect(Buffer.compare(await curl('--fail', url), video)).toBe(0)
    }
  })

  it('HEAD (-I) shows the length, type and ranges without reading', async () => {
    const head = (await curl('--fail', '-I', server.fileUrl(0))).toString('latin1')
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(head).toMatch(/\r\ncontent-length: 300000\r\n/i)
    expect(head).toMatch(/\r\ncontent-type: video\/webm\r\n/i)
    expect(head).toMatch(/\r\naccept-ranges: bytes\r\n/i)
    expect(head).toMatch(/\r\netag: "[\w-]+"\r\n/i)
    expect(source.reads).toEqual([])
  })

  it('gets 416 with bytes */size for a range past the end', async () => {
    const answer = (await curl('-D', '-', '-o', '/dev/null', '-r', '300000-', server.fileUrl(0))).toString(
      'latin1',
    )
    expect(answer).toMatch(/^HTTP\/1\.1 416 Range Not Satisfiable\r\n/)
    expect(answer).toMatch(/\r\ncontent-range: bytes \*\/300000\r\n/i)
    const failed = await runProgram('curl', [
      '--silent',
      '--noproxy',
      '*',
      '--fail',
      '-r',
      '300000-',
      server.fileUrl(0),
    ])
    expect(failed.code).toBe(22)
  })

  it('resumes a partial download (-C -) to the exact file', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'clip.webm')
      await writeFile(file, video.subarray(0, 123_457))
      await curl('--fail', '-C', '-', '-o', file, server.fileUrl(0))
      expect(Buffer.compare(await readFile(file), video)).toBe(0)
      expect(source.reads.at(-1)).toEqual({ index: 0, start: 123_457, end: 300_000 })
    }))

  it('follows the playlist', async () => {
    const lines = (await curl('--fail', `${server.url}playlist.m3u`)).toString('utf8').trimEnd().split('\n')
    expect(lines[0]).toBe('#EXTM3U')
    expect(Buffer.compare(await curl('--fail', lines[2]!), video)).toBe(0)
  })

  it('is refused (421) with a foreign Host header, as a DNS-rebound page would send', async () => {
    const code = await curl(
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'Host: attacker.example',
      server.fileUrl(0),
    )
    expect(code.toString()).toBe('421')
    expect(source.reads).toEqual([])
  })
})

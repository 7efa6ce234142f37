// `bt stream` with real consumers: a media file from a slowed libtorrent seeder, probed by ffprobe and
// seeked into by ffmpeg before those pieces were downloaded; exact byte ranges with curl; and the
// refusals (a non-loopback HTTP host without --allow-remote, a foreign Host header).
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeWithTools, type LibtorrentSeeder, runProgram, startLibtorrentSeeder } from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { stopBt } from './leechers.js'
import {
  type BtProcess,
  bt,
  makeFixture,
  progressEvents,
  removeFixture,
  spawnBtProcess,
  type TorrentFixture,
  throttled,
} from './swarm.js'

const KIB = 1024

describeWithTools(['py:libtorrent', 'ffmpeg', 'ffprobe', 'curl'], 'bt stream', () => {
  let fixture: TorrentFixture
  let seeder: LibtorrentSeeder
  let media: Buffer

  beforeAll(async () => {
    // 12 s of noisy test pattern (a few MiB, its mp4 index at the end), made by ffmpeg itself.
    const scratch = await mkdtemp(join(tmpdir(), 'bt-clip-'))
    const path = join(scratch, 'clip.mp4')
    const made = await runProgram('ffmpeg', [
      ...[
        '-hide_banner',
        '-v',
        'error',
        '-nostdin',
        '-f',
        'lavfi',
        '-i',
        'testsrc=duration=12:size=320x240:rate=25',
      ],
      ...['-vf', 'noise=alls=30:allf=t', '-g', '25', '-c:v', 'mpeg4', '-q:v', '4', path],
    ])
    expect(made.code, made.stderr).toBe(0)
    media = await readFile(path)
    await rm(scratch, { recursive: true, force: true })
    fixture = await makeFixture({ name: 'clip.mp4', pieceLength: 64 * KIB, content: media })
    seeder = await startLibtorrentSeeder({
      torrentPath: fixture.torrentPath,
      savePath: fixture.seedDir,
      host: '127.0.0.2',
      // About 6 s for the whole clip: ffmpeg's seek to the end comes long before the download ends.
      settings: throttled(Math.ceil(media.length / 6)),
    })
  }, 60_000)

  afterAll(async () => {
    await seeder?.stop()
    await removeFixture(fixture)
  })

  async function startStream(extra: readonly string[] = []): Promise<{ process: BtProcess; url: string }> {
    const dir = join(fixture.root, `out-${Math.random().toString(36).slice(2)}`)
    const process = spawnBtProcess(
      [
        'stream',
        fixture.torrentPath,
        '-d',
        dir,
        '--json',
        '--peer',
        `${seeder.host}:${seeder.port}`,
        ...extra,
      ],
      { cwd: fixture.root },
    )
    const streaming = (await process.waitFor(
      (event) => (event as { event: string }).event === 'streaming',
      30_000,
    )) as unknown as {
      url: string
    }
    return { process, url: streaming.url }
  }

  it('ffprobe reads the clip and ffmpeg seeks near its end before the download is done', async () => {
    const { process, url } = await startStream()
    try {
      const probe = await runProgram('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'format=duration',
        '-of',
        'csv=p=0',
        `${url}0`,
      ])
      expect(probe.code, probe.stderr).toBe(0)
      expect(Number(probe.stdout.toString().trim())).toBeCloseTo(12, 0)
      const frame = await runProgram('ffmpeg', [
        ...['-hide_banner', '-v', 'error', '-nostdin', '-ss', '11', '-i', `${url}0`],
        ...['-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
      ])
      expect(frame.code, frame.stderr).toBe(0)
      expect(frame.stdout.length).toBe(320 * 240)
      const verified = progressEvents(process.events).at(-1)?.verifiedBytes ?? 0
      expect(verified).toBeLessThan(media.length)
    } finally {
      await stopBt(process)
    }
  }, 60_000)

  it('curl gets exact byte ranges, HEAD, 416, and the Host check holds', async () => {
    const { process, url } = await startStream()
    try {
      const range = await runProgram('curl', ['-sS', '--noproxy', '*', '-r', '100000-199999', `${url}0`])
      expect(range.code, range.stderr).toBe(0)
      expect(Buffer.compare(range.stdout, media.subarray(100_000, 200_000))).toBe(0)
      const suffix = await runProgram('curl', ['-sS', '--noproxy', '*', '-r', '-5000', `${url}0`])
      expect(Buffer.compare(suffix.stdout, media.subarray(media.length - 5000))).toBe(0)
      const head = await runProgram('curl', ['-sS', '--noproxy', '*', '-I', `${url}0`])
      expect(head.stdout.toString()).toMatch(new RegExp(`content-length: ${media.length}`, 'i'))
      expect(head.stdout.toString()).toMatch(/accept-ranges: bytes/i)
      const unsatisfiable = await runProgram('curl', [
        '-sS',
        '--noproxy',
        '*',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-r',
        `${media.length}-`,
        `${url}0`,
      ])
      expect(unsatisfiable.stdout.toString()).toBe('416')
      const rebinding = await runProgram('curl', [
        '-sS',
        '--noproxy',
        '*',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-H',
        'Host: evil.example',
        `${url}0`,
      ])
      expect(rebinding.stdout.toString()).toBe('421')
    } finally {
      await stopBt(process)
    }
  }, 60_000)

  it('refuses a non-loopback --http-host without --allow-remote (usage error)', async () => {
    const refused = await bt(['stream', fixture.torrentPath, '--http-host', '0.0.0.0'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/--allow-remote/)
  })
})

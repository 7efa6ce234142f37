// ffprobe and ffmpeg as real media consumers: they probe, jump to the index at the end of an mp4 and
// seek into the middle with byte ranges, while pieces arrive only once a reader asks for them.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeWithTools, runProgramOk } from '@bt/test-helpers'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createStreamServer, type StreamServer } from '../src/index.js'
import { until } from './http-client.js'
import { type PiecedSource, piecedSource } from './pieced-source.js'

const quiet = ['-hide_banner', '-v', 'error']

/**
 * 3 s of test pattern and a sine tone: mp4 (mpeg4 + aac, its index at the end) and webm (vp8 + opus).
 * The noise makes them a few MiB, larger than a TCP window: ffmpeg reads ahead over a forward seek
 * shorter than that, so on a tiny clip a seek would never be a new range request.
 */
async function makeClips(dir: string): Promise<{ mp4: Uint8Array; webm: Uint8Array }> {
  const inputs = [
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=3:size=320x240:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=duration=3',
  ]
  const encode = ['-nostdin', '-vf', 'noise=alls=30:allf=t', '-g', '25']
  const mp4 = join(dir, 'clip.mp4')
  const webm = join(dir, 'clip.webm')
  await runProgramOk('ffmpeg', [
    ...quiet,
    ...inputs,
    ...encode,
    '-c:v',
    'mpeg4',
    '-q:v',
    '3',
    '-c:a',
    'aac',
    mp4,
  ])
  await runProgramOk('ffmpeg', [
    ...quiet,
    ...inputs,
    ...encode,
    ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '3M', '-c:a', 'libopus', webm],
  ])
  return { mp4: await readFile(mp4), webm: await readFile(webm) }
}

/** One gray frame at `seconds`, decoded from `input` (a path or a URL). */
function frameAt(input: string, seconds: number): Promise<Buffer> {
  return runProgramOk('ffmpeg', [
    ...quiet,
    '-nostdin',
    '-ss',
    String(seconds),
    '-i',
    input,
    '-frames:v',
    '1',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'gray',
    '-',
  ])
}

describeWithTools(['ffmpeg', 'ffprobe'], 'ffprobe and ffmpeg streaming from the server', () => {
  let dir: string
  let clips: { mp4: Uint8Array; webm: Uint8Array }
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-stream-'))
    clips = await makeClips(dir)
  }, 60_000)
  afterAll(() => rm(dir, { recursive: true, force: true }))

  async function serve(): Promise<{
    source: PiecedSource
    server: StreamServer
    close: () => Promise<void>
  }> {
    const source = piecedSource(
      'clips',
      [
        { path: 'clips/clip.mp4', bytes: clips.mp4 },
        { path: 'clips/clip.webm', bytes: clips.webm },
      ],
      { pieceLength: 32_768, release: { kind: 'on-demand', delayMs: 5 } },
    )
    const server = await createStreamServer({ source })
    return {
      source,
      server,
      close: async () => {
        source.stop()
        await server.close()
      },
    }
  }

  it.each([
    [0, 'mov,mp4,m4a,3gp,3g2,mj2', 'mpeg4', 'aac'],
    [1, 'matroska,webm', 'vp8', 'opus'],
  ])('ffprobe reads file %i: format, streams and duration', async (index, format, video, audio) => {
    const { server, close } = await serve()
    try {
      const out = await runProgramOk('ffprobe', [
        ...quiet,
        ...['-show_entries', 'format=format_name,duration:stream=codec_type,codec_name', '-of', 'json'],
        server.fileUrl(index),
      ])
      const probe = JSON.parse(out.toString('utf8')) as {
        format: { format_name: string; duration: string }
        streams: { codec_type: string; codec_name: string }[]
      }
      expect(probe.format.format_name).toBe(format)
      expect(Number(probe.format.duration)).toBeCloseTo(3, 0)
      expect(probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual([
        `audio:${audio}`,
        `video:${video}`,
      ])
    } finally {
      await close()
    }
  })

  it.each([
    [0, 1.5],
    [0, 2.8],
    [1, 1.5],
    [1, 2.8],
  ])(
    'ffmpeg -ss into file %i at %s s decodes the same frame as from the local file, by seeking',
    async (index, at) => {
      const { source, server, close } = await serve()
      try {
        const local = join(dir, index === 0 ? 'clip.mp4' : 'clip.webm')
        const size = index === 0 ? clips.mp4.byteLength : clips.webm.byteLength
        const streamed = await frameAt(server.fileUrl(index), at)
        expect(streamed.byteLength).toBe(320 * 240)
        expect(streamed.equals(await frameAt(local, at))).toBe(true)
        // It jumped: some read began well inside the file, rather than everything read from the start.
        const starts = source.reads.filter((read) => read.index === index).map((read) => read.start)
        expect(starts.some((start) => start > size * 0.3)).toBe(true)
        // Every connection ffmpeg dropped on a seek ended its read.
        await until(() => source.active() === 0, 5000, 'every read to end')
      } finally {
        await close()
      }
    },
  )
})

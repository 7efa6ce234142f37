// The server over real sockets on loopback, against a source whose pieces arrive over time.
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createStreamServer,
  InvalidStreamSourceError,
  NonLoopbackHostError,
  type StreamReadError,
  type StreamServer,
  type StreamSource,
} from '../src/index.js'
import { get, open, until } from './http-client.js'
import { type PiecedSource, patternBytes, piecedSource, type ReleasePolicy } from './pieced-source.js'

const movie = patternBytes(100_000, 7)
const subtitles = Buffer.from('1\n00:00:01,000 --> 00:00:02,000\nHej världen\n')
const specs = [
  { path: 'Movie (2024)/Movie – 4K ü.mp4', bytes: movie },
  { path: 'Movie (2024)/Movie.srt', bytes: subtitles },
  { path: 'Movie (2024)/empty.txt', bytes: new Uint8Array(0) },
]

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function serve(
  release: ReleasePolicy = { kind: 'all' },
  options: {
    pieceLength?: number
    onReadError?: (error: StreamReadError) => void
    source?: PiecedSource
  } = {},
): Promise<{ server: StreamServer; source: PiecedSource }> {
  const source =
    options.source ??
    piecedSource('Movie (2024)', specs, { pieceLength: options.pieceLength ?? 16_384, release })
  const server = await createStreamServer({
    source,
    ...(options.onReadError ? { onReadError: options.onReadError } : {}),
  })
  cleanups.push(
    () => source.stop(),
    () => server.close(),
  )
  return { server, source }
}

describe('pages', () => {
  it('serves an index linking every file by index and by name', async () => {
    const { server } = await serve()
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`)
    const index = await get(server.url)
    expect(index.status).toBe(200)
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8')
    const html = index.body.toString('utf8')
    expect(html).toContain('<title>Movie (2024)</title>')
    expect(html).toContain('href="/0/Movie%20(2024)/Movie%20%E2%80%93%204K%20%C3%BC.mp4"')
    expect(html).toContain('Movie – 4K ü.mp4')
    expect(html).toContain('href="/1"')
    expect(html).toContain('href="/playlist.m3u"')
  })

  it('serves an M3U playlist of absolute URLs that all work', async () => {
    const { server } = await serve()
    const answer = await get(`${server.url}playlist.m3u`)
    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toBe('audio/x-mpegurl; charset=utf-8')
    const lines = answer.body.toString('utf8').trimEnd().split('\n')
    expect(lines).toEqual(['#EXTM3U', '#EXTINF:-1,Movie (2024)/Movie – 4K ü.mp4', server.fileUrl(0)])
    const file = await get(lines[2]!)
    expect(file.status).toBe(200)
    expect(Buffer.compare(file.body, movie)).toBe(0)
  })

  it('uses the Host the client used in the playlist (a port forward keeps working)', async () => {
    const { server } = await serve()
    const answer = await get(`${server.url}playlist.m3u`, { headers: { host: 'localhost:9999' } })
    expect(answer.body.toString('utf8')).toContain('\nhttp://localhost:9999/0/Movie%20(2024)/')
  })
})

describe('files', () => {
  it('GET sends the whole file with exact length, type, ranges and an ETag, by index or by name', async () => {
    const { server, source } = await serve()
    for (const url of [
      `${server.url}0`,
      server.fileUrl(0),
      `${server.url}0/any-name.bin`,
      `${server.url}0?x=1`,
    ]) {
      const answer = await get(url)
      expect(answer.status).toBe(200)
      expect(answer.headers['content-length']).toBe(String(movie.byteLength))
      expect(answer.headers['content-type']).toBe('video/mp4')
      expect(answer.headers['accept-ranges']).toBe('bytes')
      expect(answer.headers.etag).toMatch(/^"[\w-]+"$/)
      expect(answer.headers['content-disposition']).toBe(
        "inline; filename*=UTF-8''Movie%20%E2%80%93%204K%20%C3%BC.mp4",
      )
      expect(Buffer.compare(answer.body, movie)).toBe(0)
    }
    expect(
      source.reads.every((read) => read.index === 0 && read.start === 0 && read.end === movie.byteLength),
    ).toBe(true)
    const srt = await get(`${server.url}1`)
    expect(srt.headers['content-type']).toBe('application/x-subrip')
    expect(srt.body.equals(subtitles)).toBe(true)
  })

  it('gives different files different ETags and the same file the same one across servers', async () => {
    const { server } = await serve()
    const { server: again } = await serve()
    const tag = (await get(`${server.url}0`, { method: 'HEAD' })).headers.etag
    expect((await get(`${server.url}1`, { method: 'HEAD' })).headers.etag).not.toBe(tag)
    expect((await get(`${again.url}0`, { method: 'HEAD' })).headers.etag).toBe(tag)
  })

  it.each([
    ['bytes=0-0', 0, 1],
    ['bytes=100-199', 100, 200],
    ['bytes=16380-16390', 16380, 16391],
    ['bytes=99000-', 99000, 100_000],
    ['bytes=-500', 99500, 100_000],
    ['bytes=-200000', 0, 100_000],
    ['bytes=90000-999999', 90000, 100_000],
    ['bytes=10-19,15-29', 10, 30],
  ])('%s → 206 with exactly those bytes', async (range, start, end) => {
    const { server } = await serve()
    const answer = await get(`${server.url}0`, { headers: { range } })
    expect(answer.status).toBe(206)
    expect(answer.headers['content-range']).toBe(`bytes ${start}-${end - 1}/${movie.byteLength}`)
    expect(answer.headers['content-length']).toBe(String(end - start))
    expect(Buffer.compare(answer.body, movie.subarray(start, end))).toBe(0)
  })

  it.each([['bytes=100000-'], ['bytes=200000-300000'], ['bytes=-0']])(
    '%s → 416 with bytes */size',
    async (range) => {
      const { server, source } = await serve()
      const answer = await get(`${server.url}0`, { headers: { range } })
      expect(answer.status).toBe(416)
      expect(answer.headers['content-range']).toBe(`bytes */${movie.byteLength}`)
      expect(answer.body.byteLength).toBe(0)
      expect(source.reads).toEqual([])
    },
  )

  it.each([['bytes=0-1,50-60'], ['bytes=5-1'], ['lines=1-2'], ['bytes=abc']])(
    '%s → 200 with the whole file',
    async (range) => {
      const { server } = await serve()
      const answer = await get(`${server.url}0`, { headers: { range } })
      expect(answer.status).toBe(200)
      expect(answer.headers['content-range']).toBeUndefined()
      expect(Buffer.compare(answer.body, movie)).toBe(0)
    },
  )

  it('honours If-Range with the current ETag and sends the whole file for a stale, weak or date validator', async () => {
    const { server } = await serve()
    const etag = (await get(`${server.url}0`, { method: 'HEAD' })).headers.etag!
    const ask = (ifRange: string) =>
      get(`${server.url}0`, { headers: { range: 'bytes=10-19', 'if-range': ifRange } })
    const fresh = await ask(etag)
    expect(fresh.status).toBe(206)
    expect(Buffer.compare(fresh.body, movie.subarray(10, 20))).toBe(0)
    for (const validator of ['"stale"', `W/${etag}`, 'Tue, 15 Nov 1994 08:12:31 GMT']) {
      const whole = await ask(validator)
      expect(whole.status, validator).toBe(200)
      expect(whole.body.byteLength).toBe(movie.byteLength)
    }
  })

  it('HEAD sends the same headers as GET and never reads', async () => {
    const { server, source } = await serve({ kind: 'manual' })
    const head = await get(`${server.url}0`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe(String(movie.byteLength))
    expect(head.body.byteLength).toBe(0)
    const ranged = await get(`${server.url}0`, { method: 'HEAD', headers: { range: 'bytes=-10' } })
    expect(ranged.status).toBe(206)
    expect(ranged.headers['content-range']).toBe(`bytes 99990-99999/${movie.byteLength}`)
    expect(ranged.headers['content-length']).toBe('10')
    expect(source.reads).toEqual([])
  })

  it('serves a 0-byte file: 200 with Content-Length 0, 416 for a range, no read', async () => {
    const { server, source } = await serve({ kind: 'manual' })
    const answer = await get(`${server.url}2`)
    expect(answer.status).toBe(200)
    expect(answer.headers['content-length']).toBe('0')
    expect(answer.body.byteLength).toBe(0)
    const ranged = await get(`${server.url}2`, { headers: { range: 'bytes=0-' } })
    expect(ranged.status).toBe(416)
    expect(ranged.headers['content-range']).toBe('bytes */0')
    expect(source.reads).toEqual([])
  })

  it.each([
    ['/3'],
    ['/-1'],
    ['/01'],
    ['/0x0'],
    ['/abc'],
    ['/playlist.m3u/x'],
    ['/../../etc/passwd'],
    ['/%2e%2e/%2e%2e/etc/passwd'],
    ['/0%2F..%2F..%2Fetc%2Fpasswd'],
    ['//etc/passwd'],
    ['/99999999999999999999'],
  ])('%s → 404', async (path) => {
    const { server, source } = await serve()
    const answer = await get(`http://127.0.0.1:${server.port}${path}`)
    expect(answer.status).toBe(404)
    expect(source.reads).toEqual([])
  })

  it.each([['POST'], ['PUT'], ['DELETE'], ['OPTIONS']])('%s → 405 with Allow: GET, HEAD', async (method) => {
    const { server, source } = await serve()
    for (const path of ['', '0', 'playlist.m3u']) {
      const answer = await get(`${server.url}${path}`, { method })
      expect(answer.status).toBe(405)
      expect(answer.headers.allow).toBe('GET, HEAD')
    }
    expect(source.reads).toEqual([])
  })
})

describe('Host header (DNS rebinding)', () => {
  it('answers 421 for any other name, and serves localhost, 127.0.0.1 and [::1] with or without a port', async () => {
    const { server, source } = await serve()
    for (const host of [
      'evil.example',
      `evil.example:${server.port}`,
      '127.0.0.1.nip.io',
      'localhost.evil.example',
    ]) {
      for (const path of ['', '0', 'playlist.m3u']) {
        const answer = await get(`${server.url}${path}`, { headers: { host } })
        expect(answer.status, `${host} /${path}`).toBe(421)
      }
    }
    expect(source.reads).toEqual([])
    for (const host of [
      'localhost',
      `localhost:${server.port}`,
      '127.0.0.1',
      '[::1]',
      `[::1]:${server.port}`,
    ]) {
      expect((await get(`${server.url}1`, { headers: { host } })).status, host).toBe(200)
    }
  })

  it('serves the names in allowedHosts', async () => {
    const source = piecedSource('x', specs, { pieceLength: 16_384, release: { kind: 'all' } })
    const server = await createStreamServer({ source, allowedHosts: ['media.lan'] })
    cleanups.push(() => server.close())
    expect((await get(`${server.url}1`, { headers: { host: 'media.lan:80' } })).status).toBe(200)
    expect((await get(`${server.url}1`, { headers: { host: 'other.lan' } })).status).toBe(421)
  })
})

describe('reads that wait for pieces', () => {
  it('sends headers at once but no byte of a piece before it is there', async () => {
    const { server, source } = await serve({ kind: 'manual' })
    const res = await open(`${server.url}0`, { headers: { range: 'bytes=40000-40099' } })
    expect(res.statusCode).toBe(206)
    const chunks: Buffer[] = []
    res.on('data', (chunk: Buffer) => chunks.push(chunk))
    const ended = new Promise((resolve) => res.once('end', resolve))
    await until(() => source.waitingFor().length > 0, 5000, 'the read to wait')
    expect(source.waitingFor()).toEqual([2])
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(chunks).toEqual([])
    source.release(2)
    await ended
    expect(Buffer.compare(Buffer.concat(chunks), movie.subarray(40000, 40100))).toBe(0)
  })

  it('streams a download in progress in order, to several readers at once', async () => {
    const { server, source } = await serve({ kind: 'schedule', intervalMs: 5 })
    const ranges = [
      [0, 100_000],
      [50_000, 60_000],
      [99_000, 100_000],
      [0, 1],
      [16_383, 32_769],
    ] as const
    const answers = await Promise.all([
      ...ranges.map(([start, end]) =>
        get(`${server.url}0`, { headers: { range: `bytes=${start}-${end - 1}` } }),
      ),
      get(`${server.url}0`),
    ])
    ranges.forEach(([start, end], i) => {
      expect(Buffer.compare(answers[i]!.body, movie.subarray(start, end))).toBe(0)
    })
    expect(Buffer.compare(answers.at(-1)!.body, movie)).toBe(0)
    expect(source.reads).toHaveLength(ranges.length + 1)
  })

  it('aborts the read when the client disconnects, and pulls nothing after', async () => {
    const { server, source } = await serve({ kind: 'manual' })
    source.release(0)
    const res = await open(`${server.url}0`)
    await new Promise((resolve) => res.once('data', resolve))
    await until(() => source.waitingFor().includes(1), 5000, 'the read to wait for piece 1')
    expect(source.active()).toBe(1)
    res.destroy()
    await until(() => source.active() === 0, 5000, 'the read to end')
    expect(source.waitingFor()).toEqual([])
    const pulled = source.yielded()
    for (let piece = 1; piece < source.pieceCount; piece++) source.release(piece)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(source.yielded()).toBe(pulled)
  })

  it("Node's fetch gets a range, and aborting the fetch ends the read", async () => {
    const { server, source } = await serve({ kind: 'manual' })
    source.release(1)
    const ranged = await fetch(server.fileUrl(0), { headers: { range: 'bytes=20000-29999' } })
    expect(ranged.status).toBe(206)
    expect(Buffer.compare(Buffer.from(await ranged.arrayBuffer()), movie.subarray(20000, 30000))).toBe(0)

    const controller = new AbortController()
    const whole = await fetch(server.fileUrl(0), { signal: controller.signal })
    expect(whole.headers.get('content-length')).toBe(String(movie.byteLength))
    await until(() => source.waitingFor().includes(0), 5000, 'the read to wait for piece 0')
    controller.abort()
    await until(() => source.active() === 0, 5000, 'the read to end')
  })

  it('close() aborts reads in progress and closes every connection', async () => {
    const { server, source } = await serve({ kind: 'manual' })
    const res = await open(`${server.url}0`)
    const gone = new Promise((resolve) => res.once('close', resolve))
    res.resume()
    await until(() => source.active() === 1, 5000, 'the read to start')
    await server.close()
    await gone
    await until(() => source.active() === 0, 5000, 'the read to end')
    await server.close()
    await expect(open(server.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })
})

describe('backpressure', () => {
  it('reads no further ahead of a client that stopped reading than the socket buffers hold', async () => {
    const big = patternBytes(64 * 1024 * 1024, 3)
    const source = piecedSource('big', [{ path: 'big.mkv', bytes: big }], {
      pieceLength: 256 * 1024,
      release: { kind: 'all' },
    })
    const { server } = await serve({ kind: 'all' }, { source })
    const res = await open(`${server.url}0`)
    res.pause()
    await new Promise((resolve) => setTimeout(resolve, 300))
    const stalled = source.yielded()
    await new Promise((resolve) => setTimeout(resolve, 300))
    // Loopback TCP buffers grow to a few MiB each way; the file is 64 MiB.
    expect(source.yielded()).toBe(stalled)
    expect(stalled).toBeLessThan(16 * 1024 * 1024)
    const hash = createHash('sha256')
    let received = 0
    res.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      received += chunk.byteLength
    })
    res.resume()
    await new Promise((resolve) => res.once('end', resolve))
    expect(received).toBe(big.byteLength)
    expect(hash.digest('hex')).toBe(createHash('sha256').update(big).digest('hex'))
  })
})

describe('failing sources', () => {
  it('cuts the body short and reports a typed error when the source rejects (torrent stopped)', async () => {
    const errors: StreamReadError[] = []
    const { server, source } = await serve({ kind: 'manual' }, { onReadError: (error) => errors.push(error) })
    source.release(0)
    const res = await open(`${server.url}0`)
    let received = 0
    res.on('data', (chunk: Buffer) => {
      received += chunk.byteLength
    })
    const closed = new Promise((resolve) => res.once('close', resolve))
    await until(() => source.waitingFor().includes(1), 5000, 'the read to wait')
    source.fail(new Error('torrent stopped'))
    await closed
    expect(res.complete).toBe(false)
    expect(received).toBe(16_384)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({
      name: 'StreamReadError',
      reason: 'source-failed',
      fileIndex: 0,
      sent: 16_384,
    })
    expect((errors[0]!.cause as Error).message).toBe('torrent stopped')
  })

  it.each([
    ['too-many-bytes', [new Uint8Array(8), new Uint8Array(8)]],
    ['too-few-bytes', [new Uint8Array(4)]],
  ] as const)('destroys the connection when the source yields %s', async (reason, chunks) => {
    const errors: StreamReadError[] = []
    const source: StreamSource = {
      name: 'liar',
      files: [{ index: 0, path: 'x.bin', length: 10 }],
      async *read() {
        yield* chunks
      },
    }
    const server = await createStreamServer({ source, onReadError: (error) => errors.push(error) })
    cleanups.push(() => server.close())
    const res = await open(`${server.url}0`)
    res.resume()
    await new Promise((resolve) => res.once('close', resolve))
    expect(res.complete).toBe(false)
    expect(errors.map((error) => error.reason)).toEqual([reason])
  })
})

describe('createStreamServer', () => {
  const source = piecedSource('x', specs, { pieceLength: 16_384, release: { kind: 'all' } })

  it.each([['0.0.0.0'], ['::'], ['192.0.2.1'], ['example.com']])(
    'refuses the non-loopback host %s without allowNonLoopback',
    async (host) => {
      await expect(createStreamServer({ source, host })).rejects.toBeInstanceOf(NonLoopbackHostError)
      await expect(createStreamServer({ source, host })).rejects.toMatchObject({
        name: 'NonLoopbackHostError',
        host,
      })
    },
  )

  it('with allowNonLoopback tries to bind (here an address this machine does not have)', async () => {
    await expect(
      createStreamServer({ source, host: '192.0.2.1', allowNonLoopback: true }),
    ).rejects.toMatchObject({
      code: 'EADDRNOTAVAIL',
    })
  })

  it('binds another loopback address and localhost', async () => {
    const other = await createStreamServer({ source, host: '127.0.0.5' })
    cleanups.push(() => other.close())
    expect(other.url).toBe(`http://127.0.0.5:${other.port}/`)
    expect((await get(`${other.url}1`)).status).toBe(200)
    const named = await createStreamServer({ source, host: 'localhost' })
    cleanups.push(() => named.close())
    expect(['127.0.0.1', '::1']).toContain(named.host)
    expect((await get(`${named.url}1`)).status).toBe(200)
  })

  it('rejects a port in use and an invalid port', async () => {
    const first = await createStreamServer({ source })
    cleanups.push(() => first.close())
    await expect(createStreamServer({ source, port: first.port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    })
    await expect(createStreamServer({ source, port: 70_000 })).rejects.toBeInstanceOf(RangeError)
    await expect(createStreamServer({ source, port: 1.5 })).rejects.toBeInstanceOf(RangeError)
  })

  it.each([
    [
      'duplicate-index',
      [
        { index: 0, path: 'a', length: 1 },
        { index: 0, path: 'b', length: 1 },
      ],
    ],
    ['invalid-index', [{ index: -1, path: 'a', length: 1 }]],
    ['invalid-length', [{ index: 0, path: 'a', length: 1.5 }]],
  ] as const)('rejects a file list with %s', async (reason, files) => {
    const bad: StreamSource = { name: 'bad', files, read: source.read }
    const attempt = createStreamServer({ source: bad })
    await expect(attempt).rejects.toBeInstanceOf(InvalidStreamSourceError)
    await expect(createStreamServer({ source: bad })).rejects.toMatchObject({ reason })
  })

  it('fileUrl throws for an unknown index', async () => {
    const server = await createStreamServer({ source })
    cleanups.push(() => server.close())
    expect(() => server.fileUrl(7)).toThrow(RangeError)
  })
})

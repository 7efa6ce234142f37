// A web seed against real servers: Debian's nginx serving single- and multi-file content (every piece
// checked against the torrent's hashes, runs across files, a missing file), and a scripted node:http
// server for what nginx never does (503 with Retry-After, ignoring Range, redirects, wrong ranges, hangs).
import { createHash } from 'node:crypto'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTorrent, type Metainfo, parseTorrent } from '@bt/metainfo'
import { describeWithTools, type LoopbackNginx, pseudoRandomBytes, startNginx } from '@bt/test-helpers'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { WebSeedHttpError, WebSeedResponseError, WebSeedUnavailableError } from '../src/errors.js'
import { createWebSeed, type WebSeed, webSeedFileUrl } from '../src/web-seed.js'

const KIB = 1024
const PIECE = 16 * KIB

function sha1(bytes: Uint8Array): Buffer {
  return createHash('sha1').update(bytes).digest()
}

/** Fetches every piece alone and checks it against the torrent's hash; returns them concatenated. */
async function fetchEachPiece(seed: WebSeed, meta: Metainfo): Promise<Buffer> {
  const pieces: Uint8Array[] = []
  for (let index = 0; index < meta.pieceCount; index++) {
    const piece = await seed.fetchPieces(index, index)
    expect(piece.length).toBe(meta.layout.pieceLengthAt(index))
    expect(sha1(piece).equals(meta.pieceHash(index)), `piece ${index}`).toBe(true)
    pieces.push(piece)
  }
  return Buffer.concat(pieces)
}

async function writeTree(root: string, files: Record<string, Uint8Array>): Promise<void> {
  for (const [path, bytes] of Object.entries(files)) {
    const parts = path.split('/')
    await mkdir(join(root, ...parts.slice(0, -1)), { recursive: true, mode: 0o755 })
    await writeFile(join(root, ...parts), bytes, { mode: 0o644 })
  }
}

describeWithTools(['nginx'], 'a web seed against nginx', () => {
  let dir: string
  let nginx: LoopbackNginx
  let single: Metainfo
  let singleBytes: Buffer
  let multi: Metainfo
  let multiBytes: Buffer
  let partial: Metainfo

  const multiName = 'Mülti «目录» #1'
  const multiFiles: Record<string, Buffer> = {
    'a.bin': pseudoRandomBytes(40 * KIB + 1, 'a'),
    'empty file': Buffer.alloc(0),
    'sub dir/ünï cødé?.bin': pseudoRandomBytes(70 * KIB + 5, 'b'),
    'sub dir/100% & more+;=.bin': pseudoRandomBytes(3 * KIB, 'c'),
    'z.bin': pseudoRandomBytes(50 * KIB, 'd'),
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bt-webseed-'))
    const root = join(dir, 'www')
    const made = join(dir, 'made')
    await mkdir(root, { mode: 0o755 })
    await chmod(dir, 0o755)

    singleBytes = pseudoRandomBytes(200 * KIB + 123, 'single')
    await writeTree(made, { 'single file ü.bin': singleBytes })
    single = parseTorrent(
      (await createTorrent(join(made, 'single file ü.bin'), { pieceLength: PIECE })).torrent,
    )
    await writeTree(root, { 'single file ü.bin': singleBytes, 'mirror/renamed.bin': singleBytes })

    await writeTree(join(made, multiName), multiFiles)
    multi = parseTorrent((await createTorrent(join(made, multiName), { pieceLength: PIECE })).torrent)
    // The torrent's order (mktorrent's: byte order of the path) decides the content's.
    multiBytes = Buffer.concat(multi.files.map((file) => multiFiles[file.originalPath.join('/')]!))
    await writeTree(join(root, multiName), multiFiles)

    const partialFiles = {
      'one.bin': pseudoRandomBytes(20 * KIB, 'one'),
      'two.bin': pseudoRandomBytes(20 * KIB, 'two'),
      'three.bin': pseudoRandomBytes(30 * KIB, 'three'),
    }
    await writeTree(join(made, 'partial'), partialFiles)
    partial = parseTorrent((await createTorrent(join(made, 'partial'), { pieceLength: PIECE })).torrent)
    const { 'two.bin': _missing, ...served } = partialFiles
    await writeTree(join(root, 'partial'), served)

    nginx = await startNginx(root)
  }, 30_000)

  afterAll(async () => {
    await nginx?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('serves a single-file torrent piece by piece, the name appended to a URL ending in /', async () => {
    expect(webSeedFileUrl(nginx.url, single, 0)).toBe(`${nginx.url}single%20file%20%C3%BC.bin`)
    const seed = createWebSeed({ url: nginx.url, meta: single })
    expect((await fetchEachPiece(seed, single)).equals(singleBytes)).toBe(true)
    expect(seed.state).toEqual({ kind: 'ready' })
  })

  it('serves a single-file torrent from a URL naming the file itself', async () => {
    const seed = createWebSeed({ url: `${nginx.url}mirror/renamed.bin`, meta: single })
    const all = await seed.fetchPieces(0, single.pieceCount - 1)
    expect(Buffer.from(all).equals(singleBytes)).toBe(true)
  })

  it('serves a multi-file torrent (unicode and reserved characters, a 0-byte file) piece by piece', async () => {
    expect(multi.files.some((file) => file.length === 0)).toBe(true)
    const seed = createWebSeed({ url: nginx.url.slice(0, -1), meta: multi })
    expect((await fetchEachPiece(seed, multi)).equals(multiBytes)).toBe(true)
  })

  it('fetches runs of pieces that span files', async () => {
    const seed = createWebSeed({ url: nginx.url, meta: multi, maxConnections: 3 })
    const whole = await seed.fetchPieces(0, multi.pieceCount - 1)
    expect(Buffer.from(whole).equals(multiBytes)).toBe(true)
    const run = await seed.fetchPieces(2, 6)
    expect(Buffer.from(run).equals(multiBytes.subarray(2 * PIECE, 7 * PIECE))).toBe(true)
    for (let index = 2; index <= 6; index++) {
      const piece = run.subarray((index - 2) * PIECE, (index - 1) * PIECE)
      expect(sha1(piece).equals(multi.pieceHash(index))).toBe(true)
    }
  })

  it('drops a file the server does not have (404), and only that file', async () => {
    const dropped: [number, string][] = []
    const seed = createWebSeed({
      url: nginx.url,
      meta: partial,
      onFileDropped: (fileIndex, reason) => dropped.push([fileIndex, reason]),
    })
    // Files in torrent order: one.bin, three.bin, two.bin (mktorrent sorts by path).
    const names = partial.files.map((file) => file.originalPath.join('/'))
    const two = names.indexOf('two.bin')
    const [firstOfTwo, lastOfTwo] = partial.layout.piecesForFile(two)!
    const error = await seed.fetchPieces(lastOfTwo, lastOfTwo).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(WebSeedHttpError)
    expect(error).toMatchObject({ name: 'WebSeedHttpError', status: 404 })
    expect(seed.state).toEqual({ kind: 'ready' })
    expect(dropped).toEqual([[two, (error as Error).message]])
    const now = Date.now()
    for (let index = 0; index < partial.pieceCount; index++) {
      const touchesTwo = index >= firstOfTwo && index <= lastOfTwo
      expect(seed.canServe(index, now), `piece ${index}`).toBe(!touchesTwo)
      if (!touchesTwo)
        expect(sha1(await seed.fetchPieces(index, index)).equals(partial.pieceHash(index))).toBe(true)
    }
    await expect(seed.fetchPieces(firstOfTwo, firstOfTwo)).rejects.toMatchObject({
      name: 'WebSeedUnavailableError',
      reason: 'file-dropped',
    })
  })

  it('never asks again for a file whose data failed the hash', async () => {
    const seed = createWebSeed({ url: nginx.url, meta: single })
    seed.fileFailed(0)
    expect(seed.canServe(0, Date.now())).toBe(false)
    expect(seed.state.kind).toBe('dropped')
    await expect(seed.fetchPieces(0, 0)).rejects.toBeInstanceOf(WebSeedUnavailableError)
  })
})

describe('a web seed against a scripted HTTP server', () => {
  const content = pseudoRandomBytes(256 * KIB + 99, 'scripted')
  let meta: Metainfo
  let server: Server
  let base: string
  let handle: (req: IncomingMessage, res: ServerResponse) => void
  let clock: number
  const now = () => clock

  /** Answers a `Range: bytes=a-b` from `bytes` as a correct server would. */
  function serveRange(req: IncomingMessage, res: ServerResponse, bytes: Uint8Array = content): void {
    const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
    if (!match) {
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes)
      return
    }
    const start = Number(match[1])
    const end = Math.min(Number(match[2]), bytes.length - 1)
    res
      .writeHead(206, {
        'content-range': `bytes ${start}-${end}/${bytes.length}`,
        'content-length': end - start + 1,
      })
      .end(bytes.subarray(start, end + 1))
  }

  function seed(options: { maxConnections?: number; requestTimeoutMs?: number; maxRedirects?: number } = {}) {
    return createWebSeed({ url: `${base}/file.bin`, meta, now, ...options })
  }

  function piece(index: number): Buffer {
    return content.subarray(index * PIECE, (index + 1) * PIECE)
  }

  beforeAll(async () => {
    meta = parseTorrent(
      (
        await createTorrent(
          { path: ['file.bin'], length: content.length, source: content },
          { pieceLength: PIECE },
        )
      ).torrent,
    )
    server = createServer((req, res) => handle(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  beforeEach(() => {
    clock = 1_000_000
    handle = serveRange
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('asks for exactly the bytes of the piece, uncompressed', async () => {
    const asked: (string | undefined)[][] = []
    handle = (req, res) => {
      asked.push([req.headers.range, req.headers['accept-encoding']])
      serveRange(req, res)
    }
    const last = meta.pieceCount - 1
    expect(Buffer.from(await seed().fetchPieces(last, last)).equals(piece(last))).toBe(true)
    expect(asked).toEqual([[`bytes=${last * PIECE}-${content.length - 1}`, 'identity']])
  })

  it('backs off as long as a 503 says in Retry-After, seconds or an HTTP-date', async () => {
    const web = seed()
    handle = (_req, res) => res.writeHead(503, { 'retry-after': '7' }).end('busy')
    const error = await web.fetchPieces(1, 1).catch((err: unknown) => err)
    expect(error).toMatchObject({ name: 'WebSeedHttpError', status: 503, retryAfterMs: 7000 })
    expect(web.state).toEqual({ kind: 'backing-off', until: clock + 7000, error })
    expect(web.canServe(1, clock + 6999)).toBe(false)
    await expect(web.fetchPieces(1, 1)).rejects.toMatchObject({
      name: 'WebSeedUnavailableError',
      reason: 'backing-off',
    })
    clock += 7000
    expect(web.canServe(1, clock)).toBe(true)
    handle = (_req, res) =>
      res.writeHead(429, { 'retry-after': new Date(clock + 60_000).toUTCString() }).end()
    await expect(web.fetchPieces(1, 1)).rejects.toMatchObject({ status: 429, retryAfterMs: 60_000 })
    expect(web.state).toMatchObject({ kind: 'backing-off', until: clock + 60_000 })
    clock += 60_000
    handle = serveRange
    expect(Buffer.from(await web.fetchPieces(1, 1)).equals(piece(1))).toBe(true)
    expect(web.state).toEqual({ kind: 'ready' })
  })

  it('backs off exponentially after other errors, and forgets after a success', async () => {
    const web = seed()
    handle = (_req, res) => res.writeHead(500).end()
    for (const delay of [5_000, 10_000, 20_000]) {
      await expect(web.fetchPieces(0, 0)).rejects.toMatchObject({ name: 'WebSeedHttpError', status: 500 })
      expect(web.state).toMatchObject({ kind: 'backing-off', until: clock + delay })
      clock += delay
    }
    handle = serveRange
    await web.fetchPieces(0, 0)
    handle = (_req, res) => res.writeHead(500).end()
    await expect(web.fetchPieces(0, 0)).rejects.toBeInstanceOf(WebSeedHttpError)
    expect(web.state).toMatchObject({ kind: 'backing-off', until: clock + 5_000 })
  })

  it('reads a server that ignores Range as a stream, and stops once it has the range', async () => {
    const large = pseudoRandomBytes(32 * 1024 * KIB, 'large')
    const largeMeta = parseTorrent(
      (
        await createTorrent(
          { path: ['large.bin'], length: large.length, source: large },
          { pieceLength: PIECE },
        )
      ).torrent,
    )
    let sent = 0
    const finished = new Promise<void>((resolve) => {
      handle = (_req, res) => {
        res.writeHead(200, { 'content-length': large.length })
        const pump = () => {
          while (sent < large.length && !res.destroyed) {
            const chunk = large.subarray(sent, sent + 64 * KIB)
            sent += chunk.length
            if (!res.write(chunk)) return
          }
          if (sent >= large.length) res.end()
        }
        res.on('drain', pump)
        res.on('close', () => resolve())
        pump()
      }
    })
    const web = createWebSeed({ url: `${base}/large.bin`, meta: largeMeta })
    const index = 64 // 1 MiB in
    const data = await web.fetchPieces(index, index + 1)
    expect(Buffer.from(data).equals(large.subarray(index * PIECE, (index + 2) * PIECE))).toBe(true)
    await finished
    expect(sent).toBeLessThan(large.length / 2)
  })

  it('follows redirects up to maxRedirects, relative ones too, to http(s) only', async () => {
    handle = (req, res) => {
      const hop = /^\/hop\/(\d+)$/.exec(req.url ?? '')
      if (hop) {
        const left = Number(hop[1])
        res
          .writeHead(left % 2 ? 302 : 307, { location: left === 0 ? '/file.bin' : `${base}/hop/${left - 1}` })
          .end()
      } else if (req.url === '/loop') res.writeHead(301, { location: '/loop' }).end()
      else if (req.url === '/ftp') res.writeHead(302, { location: 'ftp://127.0.0.1/file.bin' }).end()
      else if (req.url === '/nowhere') res.writeHead(302).end()
      else serveRange(req, res)
    }
    const ok = createWebSeed({ url: `${base}/hop/2`, meta, now, maxRedirects: 3 })
    expect(Buffer.from(await ok.fetchPieces(3, 3)).equals(piece(3))).toBe(true)
    const tooFar = createWebSeed({ url: `${base}/hop/3`, meta, now, maxRedirects: 3 })
    await expect(tooFar.fetchPieces(3, 3)).rejects.toMatchObject({
      name: 'WebSeedResponseError',
      reason: 'redirect-limit',
    })
    const loop = createWebSeed({ url: `${base}/loop`, meta, now })
    await expect(loop.fetchPieces(0, 0)).rejects.toMatchObject({ reason: 'redirect-limit' })
    expect(loop.state.kind).toBe('backing-off')
    for (const path of ['/ftp', '/nowhere']) {
      const bad = createWebSeed({ url: `${base}${path}`, meta, now })
      await expect(bad.fetchPieces(0, 0)).rejects.toMatchObject({ reason: 'redirect-target' })
    }
  })

  it('refuses a 206 whose Content-Range is not the range asked for', async () => {
    handle = (req, res) => {
      const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')!
      res.writeHead(206, {
        'content-range': `bytes ${Number(start) + 1}-${Number(end) + 1}/${content.length}`,
      })
      res.end(content.subarray(Number(start) + 1, Number(end) + 2))
    }
    const web = seed()
    await expect(web.fetchPieces(2, 2)).rejects.toMatchObject({
      name: 'WebSeedResponseError',
      reason: 'content-range',
    })
    expect(web.state.kind).toBe('backing-off')
    clock += 60_000
    handle = (_req, res) => res.writeHead(206).end(piece(2))
    await expect(web.fetchPieces(2, 2)).rejects.toMatchObject({ reason: 'content-range' })
  })

  it('drops the file when the server’s copy has another size', async () => {
    handle = (req, res) => serveRange(req, res, content.subarray(0, content.length - 1))
    const web = seed()
    await expect(web.fetchPieces(0, 0)).rejects.toMatchObject({
      name: 'WebSeedResponseError',
      reason: 'file-size',
    })
    expect(web.state.kind).toBe('dropped')
  })

  it('cuts a response larger than asked, and refuses one that ends short', async () => {
    handle = (req, res) => {
      const start = Number(/^bytes=(\d+)-/.exec(req.headers.range ?? '')![1])
      const end = Math.min(start + 3 * PIECE, content.length) - 1
      res
        .writeHead(206, { 'content-range': `bytes ${start}-${end}/${content.length}` })
        .end(content.subarray(start, end + 1))
    }
    const web = seed()
    expect(Buffer.from(await web.fetchPieces(4, 4)).equals(piece(4))).toBe(true)
    handle = (req, res) => {
      const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')!
      // Chunked, so the body may end early without breaking the framing.
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${content.length}` })
      res.end(content.subarray(Number(start), Number(end) - 99))
    }
    await expect(web.fetchPieces(4, 4)).rejects.toMatchObject({
      name: 'WebSeedResponseError',
      reason: 'short-body',
    })
  })

  it('never has more than maxConnections requests in flight', async () => {
    let inFlight = 0
    let peak = 0
    handle = (req, res) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      setTimeout(() => {
        inFlight--
        serveRange(req, res)
      }, 30)
    }
    const web = seed({ maxConnections: 2 })
    const pieces = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((index) => web.fetchPieces(index, index)))
    for (const [index, data] of pieces.entries()) expect(Buffer.from(data).equals(piece(index))).toBe(true)
    expect(peak).toBe(2)
  })

  it('cancels a request when its signal aborts, without holding it against the seed', async () => {
    const arrived: IncomingMessage[] = []
    handle = (req) => arrived.push(req)
    const web = seed({ maxConnections: 1 })
    const controller = new AbortController()
    const first = web.fetchPieces(0, 0, { signal: controller.signal })
    const queued = web.fetchPieces(1, 1, { signal: controller.signal })
    while (arrived.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const closed = new Promise((resolve) => arrived[0]!.socket.once('close', resolve))
    const reason = new Error('no longer needed')
    controller.abort(reason)
    await expect(first).rejects.toBe(reason)
    await expect(queued).rejects.toBe(reason)
    await closed
    expect(arrived).toHaveLength(1)
    expect(web.state).toEqual({ kind: 'ready' })
    handle = serveRange
    expect(Buffer.from(await web.fetchPieces(1, 1)).equals(piece(1))).toBe(true)
  })

  it('sends a request again at once when its connection closes before any answer', async () => {
    let requests = 0
    handle = (req, res) => {
      requests++
      if (requests === 1) req.socket.destroy()
      else serveRange(req, res)
    }
    const web = seed()
    expect(Buffer.from(await web.fetchPieces(5, 5)).equals(piece(5))).toBe(true)
    expect(requests).toBe(2)
    expect(web.state).toEqual({ kind: 'ready' })
    handle = (req) => {
      requests++
      req.socket.destroy()
    }
    await expect(web.fetchPieces(5, 5)).rejects.toMatchObject({
      name: 'WebSeedResponseError',
      reason: 'network',
    })
    expect(requests).toBe(4)
    expect(web.state.kind).toBe('backing-off')
  })

  it('times out a request that gets no answer, and a server that is not there', async () => {
    handle = () => {}
    const web = seed({ requestTimeoutMs: 200 })
    const started = Date.now()
    await expect(web.fetchPieces(0, 0)).rejects.toMatchObject({
      name: 'WebSeedResponseError',
      reason: 'timeout',
    })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(web.state.kind).toBe('backing-off')

    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const gone = createWebSeed({ url: `http://127.0.0.1:${port}/file.bin`, meta, now })
    const error = await gone.fetchPieces(0, 0).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(WebSeedResponseError)
    expect(error).toMatchObject({ reason: 'network' })
  })
})

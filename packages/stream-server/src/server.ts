// The HTTP server of `bt stream`: an index, a playlist and every file of a StreamSource with byte
// ranges. Request paths map to file indices only, so no path can reach anything but the source's files.
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { type AddressInfo, isIP } from 'node:net'
import { createHostCheck, type HostCheck, isLoopbackHost } from '@bt/local-http'
import { contentTypeFor } from './content-type.js'
import { InvalidStreamSourceError, NonLoopbackHostError, StreamReadError } from './errors.js'
import { filePath, indexPage, playlist } from './pages.js'
import { contentRange, decideRange } from './range.js'
import type { StreamFile, StreamSource } from './source.js'

export const DEFAULT_HOST = '127.0.0.1'

export interface StreamServerInit {
  readonly source: StreamSource
  /** Address to listen on; default `127.0.0.1`. Anything but loopback needs `allowNonLoopback`. */
  readonly host?: string
  /** Default 0: a free port, see `StreamServer.port`. */
  readonly port?: number
  /** Extra names accepted in the `Host` header (besides the bound address, localhost, 127.0.0.1, [::1]). */
  readonly allowedHosts?: readonly string[]
  /** Serve on a non-loopback address: every machine that reaches it can read the files. */
  readonly allowNonLoopback?: boolean
  /** Called when a response body could not be completed (the client's connection was destroyed). */
  readonly onReadError?: (error: StreamReadError) => void
}

export interface StreamServer {
  /** `http://<bound address>:<port>/`, the index page. */
  readonly url: string
  /** The address the server is bound to (`127.0.0.1`, `::1`, …). */
  readonly host: string
  readonly port: number
  /** The absolute URL of file `index` (`<url><index>/<percent-encoded path>`). */
  fileUrl(index: number): string
  /** Stops listening, aborts every read in progress and closes every connection. Idempotent. */
  close(): Promise<void>
}

interface ServedFile {
  readonly file: StreamFile
  readonly etag: string
  readonly contentType: string
  readonly disposition: string
}

const FILE_ROUTE = /^\/(0|[1-9]\d{0,15})(?:\/.*)?$/

export async function createStreamServer(init: StreamServerInit): Promise<StreamServer> {
  const host = init.host ?? DEFAULT_HOST
  const port = init.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`stream-server: port must be an integer from 0 to 65535, got ${port}`)
  }
  if (!init.allowNonLoopback && !isLoopbackHost(host)) throw new NonLoopbackHostError(host)
  const files = servedFiles(init.source)

  const reads = new Set<AbortController>()
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = (server.address() as AddressInfo).address
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      for (const read of reads) read.abort()
      server.close(() => resolve())
      server.closeAllConnections()
    })
    return closing
  }
  // A name such as `localhost` passed the first check; what it resolved to must be loopback too.
  if (!init.allowNonLoopback && !isLoopbackHost(address)) {
    await close()
    throw new NonLoopbackHostError(address)
  }

  const boundPort = (server.address() as AddressInfo).port
  const origin = `http://${isIP(address) === 6 ? `[${address}]` : address}:${boundPort}`
  const handler = createHandler({
    source: init.source,
    files,
    hostCheck: createHostCheck(address, init.allowedHosts),
    origin,
    reads,
    onReadError: init.onReadError,
  })
  server.on('request', handler)

  return {
    url: `${origin}/`,
    host: address,
    port: boundPort,
    fileUrl(index) {
      const served = files.get(index)
      if (!served) throw new RangeError(`stream-server: no file with index ${index}`)
      return `${origin}${filePath(served.file)}`
    },
    close,
  }
}

interface HandlerContext {
  readonly source: StreamSource
  readonly files: ReadonlyMap<number, ServedFile>
  readonly hostCheck: HostCheck
  readonly origin: string
  readonly reads: Set<AbortController>
  readonly onReadError: ((error: StreamReadError) => void) | undefined
}

function createHandler(context: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (!context.hostCheck.allows(req.headers.host)) {
      sendText(res, req, 421, 'Misdirected Request: this server does not answer for that Host\n')
      return
    }
    const pathname = new URL(req.url ?? '/', 'http://stream.invalid').pathname
    const route = routeOf(pathname, context.files)
    if (route === undefined) {
      sendText(res, req, 404, 'Not Found\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      sendText(res, req, 405, 'Method Not Allowed\n')
      return
    }
    if (route === 'index') {
      res.setHeader('Content-Security-Policy', "default-src 'none'")
      send(res, req, 200, 'text/html; charset=utf-8', indexPage(context.source.name, context.source.files))
      return
    }
    if (route === 'playlist') {
      // The Host the client used (already checked), so the URLs work through a port forward too.
      const origin = req.headers.host ? `http://${req.headers.host}` : context.origin
      send(res, req, 200, 'audio/x-mpegurl; charset=utf-8', playlist(origin, context.source.files))
      return
    }
    serveFile(context, route, req, res)
  }
}

function serveFile(
  context: HandlerContext,
  served: ServedFile,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const { file } = served
  res.setHeader('Accept-Ranges', 'bytes')
  res.setHeader('ETag', served.etag)
  res.setHeader('Content-Type', served.contentType)
  res.setHeader('Content-Disposition', served.disposition)
  res.setHeader('X-Content-Type-Options', 'nosniff')
  // An HTML or SVG file of the torrent must not run scripts on this origin.
  res.setHeader('Content-Security-Policy', 'sandbox')

  const decision = decideRange(
    { range: req.headers.range, ifRange: header(req, 'if-range') },
    file.length,
    served.etag,
  )
  if (decision.kind === 'unsatisfiable') {
    res.statusCode = 416
    res.setHeader('Content-Range', `bytes */${file.length}`)
    res.setHeader('Content-Length', 0)
    res.end()
    return
  }
  const start = decision.kind === 'partial' ? decision.start : 0
  const end = decision.kind === 'partial' ? decision.end : file.length
  res.statusCode = decision.kind === 'partial' ? 206 : 200
  if (decision.kind === 'partial') res.setHeader('Content-Range', contentRange(start, end, file.length))
  res.setHeader('Content-Length', end - start)
  if (req.method === 'HEAD' || start === end) {
    res.end()
    return
  }
  // Headers go out now: a player learns the size while the first piece is still downloading.
  res.flushHeaders()
  void pump(context, file.index, start, end, res)
}

/**
 * Copies [start, end) from the source to the response, pulling the next chunk only once the socket has
 * taken the last one (write() → false: wait for 'drain'), so a slow client holds back the source and
 * nothing is read ahead beyond the socket's buffers. The read is aborted when the connection closes.
 */
async function pump(
  context: HandlerContext,
  fileIndex: number,
  start: number,
  end: number,
  res: ServerResponse,
): Promise<void> {
  const controller = new AbortController()
  const { signal } = controller
  context.reads.add(controller)
  const abort = () => controller.abort()
  res.once('close', abort)
  let sent = 0
  const fail = (reason: 'source-failed' | 'too-many-bytes' | 'too-few-bytes', cause?: unknown) => {
    res.destroy()
    context.onReadError?.(new StreamReadError(reason, { fileIndex, start, end, sent }, { cause }))
  }
  try {
    for await (const chunk of context.source.read(fileIndex, start, end, { signal })) {
      if (signal.aborted) return
      if (chunk.byteLength > end - start - sent) return fail('too-many-bytes')
      if (chunk.byteLength === 0) continue
      sent += chunk.byteLength
      if (!res.write(chunk)) await drained(res, signal)
    }
    if (signal.aborted) return
    if (sent < end - start) return fail('too-few-bytes')
    res.end()
  } catch (error) {
    if (!signal.aborted) fail('source-failed', error)
  } finally {
    res.off('close', abort)
    context.reads.delete(controller)
  }
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    res.on('drain', done)
    signal.addEventListener('abort', done)
  })
}

function routeOf(
  pathname: string,
  files: ReadonlyMap<number, ServedFile>,
): 'index' | 'playlist' | ServedFile | undefined {
  if (pathname === '/') return 'index'
  if (pathname === '/playlist.m3u') return 'playlist'
  // The name after the index is only for players and humans; the index alone picks the file.
  const match = FILE_ROUTE.exec(pathname)
  return match ? files.get(Number(match[1])) : undefined
}

function send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string): void {
  const bytes = Buffer.from(body, 'utf8')
  res.statusCode = status
  res.setHeader('Content-Type', type)
  res.setHeader('Content-Length', bytes.byteLength)
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.end(req.method === 'HEAD' ? undefined : bytes)
}

function sendText(res: ServerResponse, req: IncomingMessage, status: number, body: string): void {
  send(res, req, status, 'text/plain; charset=utf-8', body)
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

function servedFiles(source: StreamSource): Map<number, ServedFile> {
  const files = new Map<number, ServedFile>()
  // Every file's path and length go into each ETag: a different torrent with the same name (a
  // re-release) then gets different validators, and If-Range never splices two contents together.
  const layout = createHash('sha256').update(
    JSON.stringify([source.name, source.files.map((f) => [f.path, f.length])]),
  )
  for (const file of source.files) {
    if (!Number.isSafeInteger(file.index) || file.index < 0) {
      throw new InvalidStreamSourceError(
        'invalid-index',
        file.index,
        `file index ${file.index} is not a non-negative integer`,
      )
    }
    if (!Number.isSafeInteger(file.length) || file.length < 0) {
      throw new InvalidStreamSourceError(
        'invalid-length',
        file.index,
        `file ${file.index} has length ${file.length}, not a non-negative integer`,
      )
    }
    if (files.has(file.index)) {
      throw new InvalidStreamSourceError('duplicate-index', file.index, `two files have index ${file.index}`)
    }
    const tag = layout.copy().update(`\0${file.index}\0${file.length}`).digest('base64url').slice(0, 27)
    files.set(file.index, {
      file,
      etag: `"${tag}"`,
      contentType: contentTypeFor(file.path),
      disposition: `inline; filename*=UTF-8''${encodeRfc8187(file.path.slice(file.path.lastIndexOf('/') + 1))}`,
    })
  }
  return files
}

/** RFC 8187 value chars: what encodeURIComponent leaves alone, minus the ones attr-char excludes. */
function encodeRfc8187(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

// Re-exported: callers of this package check a host the way its server does.
export { isLoopbackHost }

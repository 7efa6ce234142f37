// The HTTP side of Transmission's RPC, checked the way Transmission's own server checks it (DESIGN §6):
// the Host header (DNS rebinding, 421), Basic auth when configured (401, 429 after repeated failures),
// the session-id header (CSRF, 409), a capped body (413); then the request goes to `methods.ts`.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { type AddressInfo, isIP } from 'node:net'
import { createHostCheck, isLoopbackHost } from '@bt/local-http'
import { type AuthBackoff, type AuthGuard, createAuthGuard, type RpcCredentials } from './auth.js'
import { RpcInsecureBindError } from './errors.js'
import { type FetchTorrentOptions, fetchTorrentFile } from './fetch-torrent.js'
import { handleBody, type MethodContext } from './methods.js'
import type { RpcSession } from './session.js'
import { findWebUi, page, sendHtml, serveWebFile, type WebUi } from './web-ui.js'

export const DEFAULT_RPC_HOST = '127.0.0.1'
export const DEFAULT_RPC_PORT = 9091
export const SESSION_ID_HEADER = 'X-Transmission-Session-Id'
const RPC_PATHS = new Set(['/transmission/rpc', '/transmission/rpc/'])
const WEB_PREFIX = '/transmission/web/'

export interface RpcServerInit {
  readonly session: RpcSession
  /** Address to listen on; default `127.0.0.1`. Anything but loopback requires `auth`. */
  readonly host?: string
  /** Default 9091; 0 picks a free port (see `RpcServer.port`). */
  readonly port?: number
  /** Require HTTP Basic auth with these credentials. */
  readonly auth?: RpcCredentials
  /** When auth fails repeatedly from one address (defaults: 10 failures a minute lock it out for a minute). */
  readonly authBackoff?: AuthBackoff
  /** Names accepted in the `Host` header besides the bound address, localhost, 127.0.0.1 and [::1]. */
  readonly hostWhitelist?: readonly string[]
  /** A web client to serve at `/transmission/web/`; default Transmission's at `/usr/share/transmission/web` if installed. */
  readonly webUiDir?: string
  /** Largest request body accepted (413 beyond); default 16 MiB, room for a big base64 `.torrent`. */
  readonly maxBodyBytes?: number
  /** `torrent-add` of an http(s) URL: size cap and timeout of the fetch. */
  readonly fetchTorrent?: FetchTorrentOptions
  /** Clock in milliseconds (tests); default `Date.now`. */
  readonly now?: () => number
}

export interface RpcServer {
  /** `http://<bound address>:<port>/transmission/rpc`. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** The current `X-Transmission-Session-Id`. */
  readonly sessionId: string
  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void>
}

export async function createRpcServer(init: RpcServerInit): Promise<RpcServer> {
  const host = init.host ?? DEFAULT_RPC_HOST
  const port = init.port ?? DEFAULT_RPC_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`transmission-rpc: port must be an integer from 0 to 65535, got ${port}`)
  }
  const maxBodyBytes = init.maxBodyBytes ?? 16 * 1024 * 1024
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new RangeError(`transmission-rpc: maxBodyBytes must be a positive integer, got ${maxBodyBytes}`)
  }
  if (init.auth === undefined && !isLoopbackHost(host)) throw new RpcInsecureBindError(host)
  if (init.auth !== undefined && init.auth.username === '' && init.auth.password === '') {
    throw new RangeError('transmission-rpc: auth needs a username or a password')
  }

  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
    return closing
  }
  // A name such as `localhost` passed the first check; what it resolved to must be loopback too.
  if (init.auth === undefined && !isLoopbackHost(address.address)) {
    await close()
    throw new RpcInsecureBindError(address.address)
  }

  const sessionId = randomBytes(24).toString('hex')
  const now = init.now ?? Date.now
  const fetchOptions = init.fetchTorrent ?? {}
  const context: HandlerContext = {
    hostCheck: createHostCheck(address.address, init.hostWhitelist ?? []),
    auth: init.auth === undefined ? undefined : createAuthGuard(init.auth, init.authBackoff),
    sessionId,
    maxBodyBytes,
    webUi: findWebUi(init.webUiDir),
    now,
    methods: {
      session: init.session,
      now,
      sessionId,
      fetchTorrent: (url) => fetchTorrentFile(url, fetchOptions),
    },
  }
  server.on('request', createHandler(context))
  server.requestTimeout = 60_000
  server.headersTimeout = 20_000

  const urlHost = isIP(address.address) === 6 ? `[${address.address}]` : address.address
  return {
    url: `http://${urlHost}:${address.port}/transmission/rpc`,
    host: address.address,
    port: address.port,
    sessionId,
    close,
  }
}

interface HandlerContext {
  readonly hostCheck: ReturnType<typeof createHostCheck>
  readonly auth: AuthGuard | undefined
  readonly sessionId: string
  readonly maxBodyBytes: number
  readonly webUi: WebUi
  readonly now: () => number
  readonly methods: MethodContext
}

function createHandler(context: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(req, res, context).catch(() => {
      if (!res.headersSent) sendHtml(res, req, 500, page('500: Internal Server Error', 'The request failed.'))
      else res.destroy()
    })
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, context: HandlerContext): Promise<void> {
  if (!context.hostCheck.allows(req.headers.host)) {
    sendHtml(
      res,
      req,
      421,
      page(
        '421: Misdirected Request',
        'Unknown Host header: only the bound address, localhost and whitelisted names are served (DNS rebinding defence).',
      ),
    )
    return
  }
  if (context.auth !== undefined) {
    const verdict = context.auth.check(
      req.headers.authorization,
      req.socket.remoteAddress ?? '',
      context.now(),
    )
    if (verdict.kind === 'locked') {
      sendHtml(res, req, 429, page('429: Too Many Requests', 'Too many failed logins; try again later.'), {
        'Retry-After': String(verdict.retryAfterSeconds),
      })
      return
    }
    if (verdict.kind === 'denied') {
      sendHtml(res, req, 401, page('401: Unauthorized', 'Unauthorized User'), {
        'WWW-Authenticate': 'Basic realm="Transmission"',
      })
      return
    }
  }

  const path = (req.url ?? '/').split('?')[0] ?? '/'
  if (RPC_PATHS.has(path)) {
    await handleRpc(req, res, context)
    return
  }
  if (path.startsWith(WEB_PREFIX)) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendHtml(res, req, 405, page('405: Method Not Allowed', 'Only GET.'), { Allow: 'GET, HEAD' })
      return
    }
    await serveWebFile(req, res, context.webUi, path.slice(WEB_PREFIX.length))
    return
  }
  if (path === '/' || path === '/transmission' || path === '/transmission/' || path === '/transmission/web') {
    sendHtml(res, req, 301, page('301: Moved Permanently', `<a href="${WEB_PREFIX}">${WEB_PREFIX}</a>`), {
      Location: WEB_PREFIX,
    })
    return
  }
  sendHtml(res, req, 404, page('404: Not Found', 'No such page.'))
}

async function handleRpc(req: IncomingMessage, res: ServerResponse, context: HandlerContext): Promise<void> {
  // GET too: clients such as Flood fetch the session id this way before their first POST.
  if (req.headers[SESSION_ID_HEADER.toLowerCase()] !== context.sessionId) {
    req.resume()
    sendHtml(
      res,
      req,
      409,
      page(
        '409: Conflict',
        `Your request had an invalid session-id header.</p><p>To fix this, follow these steps:<ol><li>When reading a response, get its ${SESSION_ID_HEADER} header and remember it<li>Add the updated header to your outgoing requests<li>When you get this 409 error message, resend your request with the updated header</ol></p><p>This requirement has been added to help prevent <a href="https://en.wikipedia.org/wiki/Cross-site_request_forgery">CSRF</a> attacks.`,
      ),
      { [SESSION_ID_HEADER]: context.sessionId },
    )
    return
  }
  if (req.method !== 'POST') {
    req.resume()
    sendHtml(res, req, 405, page('405: Method Not Allowed', 'The RPC takes POST.'), { Allow: 'POST' })
    return
  }
  const body = await readBody(req, context.maxBodyBytes)
  if (body === undefined) {
    sendHtml(
      res,
      req,
      413,
      page('413: Payload Too Large', `Request bodies are limited to ${context.maxBodyBytes} bytes.`),
      {
        Connection: 'close',
      },
    )
    // Stop reading whatever the client still sends once the answer is out.
    res.on('finish', () => req.destroy())
    return
  }
  const handled = await handleBody(body, context.methods)
  const json = JSON.stringify(handled.answer)
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(json),
    [SESSION_ID_HEADER]: context.sessionId,
  })
  res.end(json)
  if (handled.after !== undefined) {
    const after = handled.after
    res.on('finish', () => {
      after().catch(() => {})
    })
  }
}

/**
 * The body as UTF-8, or undefined as soon as it exceeds `max` bytes (declared or sent). Listeners, not
 * `for await`: leaving that loop early destroys the socket before the 413 can be written.
 */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN)
  if (declared > max) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    const finish = (value: string | undefined) => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      resolve(value)
    }
    const onData = (chunk: Buffer) => {
      total += chunk.length
      if (total > max) {
        req.pause()
        finish(undefined)
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => finish(Buffer.concat(chunks).toString('utf8'))
    const onError = (error: Error) => {
      req.off('data', onData)
      req.off('end', onEnd)
      reject(error)
    }
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('error', onError)
  })
}

// Re-exported: callers of this package check a host the way its server does.
export { isLoopbackHost }

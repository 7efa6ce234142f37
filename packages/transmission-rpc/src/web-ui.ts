// Static files of a web client (Transmission's own, by default) under `/transmission/web/`. A request
// path maps into the configured directory only: decoded once, `..`, NUL and backslashes refused, and the
// resolved path checked to stay inside. Symlinks the directory itself contains are followed: Debian's
// packages link shared JavaScript that way, and the directory is the administrator's choice.
import { createReadStream, existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'

/** Where Debian's `transmission-common` installs Transmission's web client. */
export const DEFAULT_WEB_UI_DIR = '/usr/share/transmission/web'

const TYPES: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.htm', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.mjs', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.json', 'application/json'],
  ['.map', 'application/json'],
  ['.txt', 'text/plain; charset=utf-8'],
  ['.png', 'image/png'],
  ['.gif', 'image/gif'],
  ['.jpg', 'image/jpeg'],
  ['.jpeg', 'image/jpeg'],
  ['.svg', 'image/svg+xml'],
  ['.ico', 'image/x-icon'],
  ['.webp', 'image/webp'],
  ['.woff', 'font/woff'],
  ['.woff2', 'font/woff2'],
  ['.ttf', 'font/ttf'],
  ['.webmanifest', 'application/manifest+json'],
])

export function webContentType(path: string): string {
  return TYPES.get(extname(path).toLowerCase()) ?? 'application/octet-stream'
}

export interface WebUi {
  /** The directory served, undefined when it has no `index.html`. */
  readonly root: string | undefined
  /** The directory looked at, for the page that says none was found. */
  readonly tried: string
}

/** The web UI to serve: the directory given, else Debian's; either only if it has an `index.html`. */
export function findWebUi(dir: string | undefined): WebUi {
  const tried = resolve(dir ?? DEFAULT_WEB_UI_DIR)
  return { root: existsSync(join(tried, 'index.html')) ? tried : undefined, tried }
}

/**
 * The file `relative` (the URL path after `/transmission/web/`, still percent-encoded) names inside
 * `root`, or undefined when it tries to leave it or is malformed.
 */
export function webFilePath(root: string, relative: string): string | undefined {
  let decoded: string
  try {
    decoded = decodeURIComponent(relative)
  } catch {
    return undefined
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined
  const parts = decoded.split('/').filter((part) => part !== '' && part !== '.')
  if (parts.includes('..')) return undefined
  const path = resolve(root, ...parts)
  return path === root || path.startsWith(root + sep) ? path : undefined
}

/** Serves `relative` from `root` (GET and HEAD); `index.html` for a directory. */
export async function serveWebFile(
  req: IncomingMessage,
  res: ServerResponse,
  webUi: WebUi,
  relative: string,
): Promise<void> {
  const root = webUi.root
  if (root === undefined) {
    sendHtml(res, req, 404, noWebUiPage(webUi.tried))
    return
  }
  let path = webFilePath(root, relative)
  if (path === undefined) {
    sendHtml(res, req, 404, page('404: Not Found', 'No such file.'))
    return
  }
  let info = await stat(path).catch(() => undefined)
  if (info?.isDirectory()) {
    path = join(path, 'index.html')
    info = await stat(path).catch(() => undefined)
  }
  if (info === undefined || !info.isFile()) {
    sendHtml(res, req, 404, page('404: Not Found', 'No such file.'))
    return
  }
  res.writeHead(200, {
    'Content-Type': webContentType(path),
    'Content-Length': info.size,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  })
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  const stream = createReadStream(path)
  stream.on('error', () => res.destroy())
  stream.pipe(res)
}

function noWebUiPage(tried: string): string {
  return page(
    'No web interface installed',
    `This server speaks Transmission's RPC at <code>/transmission/rpc</code>, but found no web client ` +
      `(no <code>index.html</code> in <code>${escapeHtml(tried)}</code>). ` +
      `Install Debian's <code>transmission-common</code> (it puts Transmission's web client in <code>${DEFAULT_WEB_UI_DIR}</code>), ` +
      'or point the server at a web client directory (<code>webUiDir</code>, <code>bt daemon --web-ui DIR</code>). ' +
      'Remotes such as <code>transmission-remote</code> work without it.',
  )
}

export function page(title: string, body: string): string {
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p></body></html>\n`
}

export function sendHtml(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

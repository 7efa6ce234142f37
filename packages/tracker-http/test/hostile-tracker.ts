// A deliberately broken HTTP tracker: each first path segment picks a way to misbehave. Used to show
// that the client turns every one of them into a typed error within its timeout.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { bytesToKey, encode } from '@bt/bencode'
import { encodeCompactPeers } from '@bt/peer-address'

export interface HostileTracker {
  /** `http://127.0.0.1:PORT` + `path`. */
  url(path: string): string
  /** Every request URL (path and query) received, in order. */
  readonly requests: string[]
  /** Resolves once the client has closed the connection of the `n`-th request (0-based). */
  clientClosed(n: number): Promise<void>
  close(): Promise<void>
}

/** The peer every `ok` announce returns, and the info hash every `ok` scrape reports. */
export const OK_PEER = { host: '10.1.2.3', port: 6881 }
export const OK_INFO_HASH = new Uint8Array(20).fill(0xab)

type Handler = (request: IncomingMessage, response: ServerResponse, rest: string[]) => void

const body = (response: ServerResponse, status: number, payload: Uint8Array | string) => {
  response.writeHead(status, { 'content-length': Buffer.byteLength(payload) })
  response.end(payload)
}

/** Writes `chunk` every `ms` until the connection goes away. */
const drip = (response: ServerResponse, chunk: string | Buffer, ms: number) => {
  const timer = setInterval(() => response.write(chunk), ms)
  response.once('close', () => clearInterval(timer))
}

const handlers: Record<string, Handler> = {
  ok: (_request, response, rest) => {
    if (rest.at(-1) === 'scrape') {
      const files = new Map([[bytesToKey(OK_INFO_HASH), { complete: 5, incomplete: 6, downloaded: 7 }]])
      body(response, 200, encode({ files }))
    } else {
      body(response, 200, encode({ interval: 60, peers: encodeCompactPeers([OK_PEER], 4) }))
    }
  },
  failure: (_request, response) => body(response, 200, encode({ 'failure reason': 'go away now' })),
  garbage: (_request, response) => body(response, 200, '<html><body>502 Bad Gateway</body></html>'),
  'not-a-dict': (_request, response) => body(response, 200, 'li1ee'),
  'bad-interval': (_request, response) => body(response, 200, 'd8:interval4:soone'),
  empty: (_request, response) => body(response, 200, ''),
  status: (_request, response) => {
    response.statusMessage = 'Service Unavailable'
    body(response, 503, encode({ 'failure reason': 'overloaded' }))
  },
  loop: (request, response) => {
    response.writeHead(302, { location: request.url })
    response.end()
  },
  // /hop/N/… redirects N times (alternating 301 and 307, relative and absolute) before answering.
  hop: (request, response, rest) => redirectChain('hop', request, response, rest),
  // The same, each redirect taking 150 ms: only a deadline shared by all hops can stop it in time.
  'slow-hop': (request, response, rest) => {
    const timer = setTimeout(() => redirectChain('slow-hop', request, response, rest), 150)
    response.once('close', () => clearTimeout(timer))
  },
  ftp: (_request, response) => {
    response.writeHead(302, { location: 'ftp://127.0.0.1/announce' })
    response.end()
  },
  'no-location': (_request, response) => {
    response.writeHead(302)
    response.end()
  },
  truncated: (_request, response) => {
    response.writeHead(200, { 'content-length': 1000 })
    response.write('d8:intervali60e5:peers')
    setTimeout(() => response.socket?.destroy(), 20)
  },
  'truncated-chunked': (_request, response) => {
    response.writeHead(200)
    response.write('d8:intervali60e5:peers')
    setTimeout(() => response.socket?.destroy(), 20)
  },
  reset: (request) => request.socket.destroy(),
  silent: () => {},
  'slow-headers': (_request, response) => {
    const timer = setTimeout(() => body(response, 200, encode({ interval: 60, peers: '' })), 5000)
    response.once('close', () => clearTimeout(timer))
  },
  'slow-loris': (_request, response) => {
    response.writeHead(200, { 'content-length': 100_000 })
    drip(response, 'x', 50)
  },
  'never-ending': (_request, response) => {
    response.writeHead(200)
    response.write('d8:intervali60e5:peers6000000:')
    drip(response, Buffer.alloc(1024), 10)
  },
  flood: (_request, response) => {
    response.writeHead(200)
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const pump = () => {
      while (!response.destroyed && response.write(chunk)) {}
    }
    response.on('drain', pump)
    pump()
  },
  'huge-declared': (_request, response) => {
    response.writeHead(200, { 'content-length': 1_000_000_000 })
    response.write('d8:intervali60e')
  },
}

function redirectChain(
  route: string,
  request: IncomingMessage,
  response: ServerResponse,
  rest: string[],
): void {
  const n = Number(rest[0])
  if (n === 0) {
    handlers.ok!(request, response, rest)
    return
  }
  const next = request.url!.replace(`/${route}/${n}/`, `/${route}/${n - 1}/`)
  const location = n % 2 === 0 ? next : `http://${request.headers.host}${next}`
  response.writeHead(n % 2 === 0 ? 301 : 307, { location })
  response.end()
}

export async function startHostileTracker(): Promise<HostileTracker> {
  const requests: string[] = []
  const closed: Promise<void>[] = []
  const server = createServer((request, response) => {
    requests.push(request.url ?? '')
    closed.push(new Promise((resolve) => request.socket.once('close', () => resolve())))
    const [name = '', ...rest] = new URL(request.url ?? '/', 'http://x').pathname.split('/').slice(1)
    const handler = handlers[name]
    if (handler) handler(request, response, rest)
    else body(response, 404, 'no such route')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    clientClosed: (n) => closed[n] ?? Promise.reject(new Error(`no request ${n}`)),
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

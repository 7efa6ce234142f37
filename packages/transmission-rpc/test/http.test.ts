// The HTTP rules of the RPC server (DESIGN §6), each against a real listening server with Node's fetch.
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createRpcServer,
  DEFAULT_WEB_UI_DIR,
  type RpcServer,
  type RpcServerInit,
  SESSION_ID_HEADER,
} from '../src/index.js'
import { send } from './http-client.js'
import { createMemorySession, makeTorrent } from './memory-session.js'

const servers: RpcServer[] = []
const dirs: string[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

async function start(init: Partial<RpcServerInit> = {}): Promise<RpcServer> {
  const server = await createRpcServer({ session: createMemorySession(), port: 0, ...init })
  servers.push(server)
  return server
}

interface Answer {
  result: string
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever arguments a method answers
  arguments: any
}

async function answerOf(res: Response): Promise<Answer> {
  return (await res.json()) as Answer
}

function rpc(server: RpcServer, body: unknown, headers: Record<string, string> = {}) {
  return fetch(server.url, {
    method: 'POST',
    headers: { [SESSION_ID_HEADER]: server.sessionId, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

describe('session id (CSRF)', () => {
  it('answers 409 with the current id to a missing or stale id, on POST and GET, on both paths', async () => {
    const server = await start()
    for (const path of ['', '/']) {
      for (const init of [
        { method: 'POST', body: '{"method":"session-get"}' },
        { method: 'GET' },
        { method: 'POST', body: '{}', headers: { [SESSION_ID_HEADER]: 'stale' } },
      ]) {
        const res = await fetch(server.url + path, init)
        expect(res.status).toBe(409)
        expect(res.headers.get(SESSION_ID_HEADER)).toBe(server.sessionId)
        await res.text()
      }
    }
    const res = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: { [SESSION_ID_HEADER]: server.sessionId },
      body: '{"method":"session-get","tag":5}',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await res.json()).toMatchObject({
      result: 'success',
      tag: 5,
      arguments: { 'rpc-version': 16, 'session-id': server.sessionId },
    })
  })

  it('answers 405 to a GET with the right id', async () => {
    const server = await start()
    const res = await fetch(server.url, { headers: { [SESSION_ID_HEADER]: server.sessionId } })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
  })
})

describe('Host header (DNS rebinding)', () => {
  it('answers 421 to other names and serves localhost, 127.0.0.1, [::1] and whitelisted names', async () => {
    const server = await start({ hostWhitelist: ['box.lan'] })
    const headers = { [SESSION_ID_HEADER]: server.sessionId }
    const body = '{"method":"session-get"}'
    for (const host of [
      'evil.example',
      'evil.example:9091',
      'localhost.evil.example',
      '127.0.0.2',
      'box.lan.evil',
    ]) {
      const answer = await send(server.url, { method: 'POST', headers: { ...headers, host }, body })
      expect(answer.status, host).toBe(421)
    }
    for (const host of [
      'localhost',
      `localhost:${server.port}`,
      `127.0.0.1:${server.port}`,
      '[::1]:1234',
      'BOX.lan',
    ]) {
      const answer = await send(server.url, { method: 'POST', headers: { ...headers, host }, body })
      expect(answer.status, host).toBe(200)
    }
    expect(
      (await send(`http://127.0.0.1:${server.port}/transmission/web/`, { headers: { host: 'evil.example' } }))
        .status,
    ).toBe(421)
  })

  it('checks the Host before asking for credentials, so a rebinding page sees no login prompt', async () => {
    const server = await start({ auth: { username: 'u', password: 'p' } })
    const answer = await send(server.url, { headers: { host: 'evil.example' } })
    expect(answer.status).toBe(421)
    expect(answer.headers['www-authenticate']).toBeUndefined()
  })
})

describe('Basic auth', () => {
  const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`

  it('answers 401 with WWW-Authenticate without the right credentials, and serves with them', async () => {
    const server = await start({ auth: { username: 'user', password: 'pass' } })
    for (const authorization of [undefined, basic('user:wrong'), basic('other:pass'), 'Basic !!']) {
      const res = await rpc(
        server,
        { method: 'session-get' },
        authorization === undefined ? {} : { authorization },
      )
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Transmission"')
      await res.text()
    }
    // 409 only once authenticated: the session id is not handed to strangers.
    const noId = await fetch(server.url, { headers: { authorization: basic('user:pass') } })
    expect(noId.status).toBe(409)
    const res = await rpc(server, { method: 'session-get' }, { authorization: basic('user:pass') })
    expect(res.status).toBe(200)
  })

  it('answers 429 with Retry-After after repeated failures, even to the right password, until the lock-out ends', async () => {
    let now = 1_000_000
    const server = await start({
      auth: { username: 'user', password: 'pass' },
      authBackoff: { maxFailures: 5, windowMs: 60_000, lockoutMs: 30_000 },
      now: () => now,
    })
    for (let i = 0; i < 5; i++) {
      const res = await rpc(server, { method: 'session-get' }, { authorization: basic(`user:guess${i}`) })
      expect(res.status).toBe(401)
      await res.text()
    }
    const locked = await rpc(server, { method: 'session-get' }, { authorization: basic('user:pass') })
    expect(locked.status).toBe(429)
    expect(locked.headers.get('retry-after')).toBe('30')
    now += 30_001
    expect((await rpc(server, { method: 'session-get' }, { authorization: basic('user:pass') })).status).toBe(
      200,
    )
  })
})

describe('binding', () => {
  it('refuses a non-loopback address without auth, before listening', async () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
      await expect(createRpcServer({ session: createMemorySession(), host, port: 0 })).rejects.toMatchObject({
        name: 'RpcInsecureBindError',
        host,
      })
    }
  })

  it('binds a wildcard address with auth, and the default is loopback 127.0.0.1', async () => {
    const open = await start({ host: '0.0.0.0', auth: { username: 'u', password: 'p' } })
    expect(open.host).toBe('0.0.0.0')
    const local = await start()
    expect(local.host).toBe('127.0.0.1')
    expect(local.url).toBe(`http://127.0.0.1:${local.port}/transmission/rpc`)
    await expect(start({ port: 70000 })).rejects.toBeInstanceOf(RangeError)
  })
})

describe('request bodies', () => {
  it('answers 413 to a body over the cap, declared or streamed', async () => {
    const server = await start({ maxBodyBytes: 1024 })
    const big = JSON.stringify({ method: 'torrent-add', arguments: { metainfo: 'A'.repeat(4096) } })
    const declared = await rpc(server, big)
    expect(declared.status).toBe(413)
    await declared.text()
    const chunked = await send(server.url, {
      method: 'POST',
      headers: { [SESSION_ID_HEADER]: server.sessionId, 'transfer-encoding': 'chunked' },
      body: big,
    }).catch((error: unknown) => error)
    // The server may close the socket while the client still writes; a 413 or a reset, never a success.
    if (!(chunked instanceof Error)) expect((chunked as { status: number }).status).toBe(413)
    expect((await rpc(server, { method: 'session-get' })).status).toBe(200)
  })

  it('answers malformed JSON and unknown methods with HTTP 200 and a result, and keeps serving', async () => {
    const server = await start()
    const bad = await rpc(server, '{"method": "session-get",')
    expect(bad.status).toBe(200)
    expect(await bad.json()).toEqual({ result: 'invalid JSON in request body', arguments: {} })
    const unknown = await rpc(server, { method: 'torrent-explode', tag: 12 })
    expect(await unknown.json()).toEqual({ result: 'method name not recognized', arguments: {}, tag: 12 })
    const empty = await rpc(server, '')
    expect((await answerOf(empty)).result).toBe('invalid JSON in request body')
    expect((await answerOf(await rpc(server, { method: 'session-stats' }))).result).toBe('success')
  })
})

describe('torrent-get over HTTP', () => {
  it('answers integers for rates', async () => {
    const session = createMemorySession([
      makeTorrent({ id: 1, name: 'a', rateDownload: 12.5, rateUpload: 0.6 }),
    ])
    const server = await start({ session })
    const answer = await (
      await rpc(server, { method: 'torrent-get', arguments: { fields: ['rateDownload', 'rateUpload'] } })
    ).text()
    expect(answer).toContain('"rateDownload":13')
    expect(answer).toContain('"rateUpload":1')
  })
})

describe('torrent-add of an http(s) URL', () => {
  it('fetches the file, with a size cap', async () => {
    const file = Buffer.from('d4:infod6:lengthi1e4:name1:xee')
    const web = createServer((req, res) => {
      if (req.url === '/big') res.end(Buffer.alloc(5000))
      else res.end(file)
    })
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve))
    try {
      const base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`
      const session = createMemorySession()
      const server = await start({ session, fetchTorrent: { maxBytes: 1000 } })
      const ok = await answerOf(
        await rpc(server, { method: 'torrent-add', arguments: { filename: `${base}/x.torrent` } }),
      )
      expect(ok.arguments['torrent-added'].id).toBe(1)
      expect(session.calls[0]).toEqual({ method: 'add', request: { metainfo: new Uint8Array(file) } })
      const big = await answerOf(
        await rpc(server, { method: 'torrent-add', arguments: { filename: `${base}/big` } }),
      )
      expect(big.result).toMatch(/larger than 1000 bytes/)
    } finally {
      web.closeAllConnections()
      await new Promise((resolve) => web.close(resolve))
    }
  })
})

describe('web UI', () => {
  async function webDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'bt-rpc-web-'))
    dirs.push(dir)
    await mkdir(join(dir, 'web', 'javascript'), { recursive: true })
    await writeFile(join(dir, 'web', 'index.html'), '<h1>ui</h1>')
    await writeFile(join(dir, 'web', 'javascript', 'main.js'), 'let x = 1')
    await writeFile(join(dir, 'secret.txt'), 'secret')
    return dir
  }

  it('redirects / to /transmission/web/ and serves files with their types', async () => {
    const dir = await webDir()
    const server = await start({ webUiDir: join(dir, 'web') })
    const base = `http://127.0.0.1:${server.port}`
    const root = await fetch(`${base}/`, { redirect: 'manual' })
    expect(root.status).toBe(301)
    expect(root.headers.get('location')).toBe('/transmission/web/')
    const index = await fetch(`${base}/transmission/web/`)
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await index.text()).toBe('<h1>ui</h1>')
    const js = await fetch(`${base}/transmission/web/javascript/main.js?v=1`)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await js.text()).toBe('let x = 1')
    expect((await fetch(`${base}/transmission/web/nope.js`)).status).toBe(404)
  })

  it('never serves a file outside the directory', async () => {
    const dir = await webDir()
    await symlink(join(dir, 'web'), join(dir, 'web', 'loop'))
    const server = await start({ webUiDir: join(dir, 'web') })
    const base = `http://127.0.0.1:${server.port}/transmission/web/`
    for (const path of [
      '../secret.txt',
      '%2e%2e/secret.txt',
      'javascript/..%2f..%2fsecret.txt',
      '..%5csecret.txt',
    ]) {
      const answer = await send(base + path)
      expect(answer.status, path).toBe(404)
      expect(answer.body).not.toContain('secret')
    }
  })

  // Debian's transmission-common (a dependency of transmission-cli, which CI installs) ships it.
  it.skipIf(!existsSync(join(DEFAULT_WEB_UI_DIR, 'index.html')) && !process.env.CI)(
    "serves Transmission's own web client by default",
    async () => {
      const server = await start()
      const base = `http://127.0.0.1:${server.port}/transmission/web/`
      const index = await fetch(base)
      expect(index.status).toBe(200)
      expect(await index.text()).toContain('Transmission Web Interface')
      const script = await fetch(`${base}javascript/transmission.js`)
      expect(script.status).toBe(200)
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
      await script.arrayBuffer()
    },
  )

  it('explains itself when no web UI is installed', async () => {
    const dir = await webDir()
    const server = await start({ webUiDir: join(dir, 'missing') })
    const res = await fetch(`http://127.0.0.1:${server.port}/transmission/web/`)
    expect(res.status).toBe(404)
    expect(await res.text()).toContain('No web interface installed')
  })
})

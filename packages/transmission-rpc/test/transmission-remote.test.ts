// Debian's transmission-remote 3.00, the real client, against our server over the in-memory test
// session: what it prints, and what it made the session do.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describeWithTools, runProgram, withTempDir } from '@bt/test-helpers'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createRpcServer, RpcErrorKind, type RpcServer, RpcStatus } from '../src/index.js'
import { createMemorySession, type MemorySession, makeTorrent } from './memory-session.js'

const HALF = makeTorrent({
  id: 1,
  name: 'half.iso',
  status: RpcStatus.downloading,
  sizeWhenDone: 1000,
  leftUntilDone: 500,
  // transmission-remote drops a row whose rate is not a JSON integer: the server must round these.
  rateDownload: 12.5,
  rateUpload: 0.5,
  eta: 40.2,
  peersSendingToUs: 1,
})
const SEEDING = makeTorrent({
  id: 2,
  name: 'seeding file.mkv',
  status: RpcStatus.seeding,
  sizeWhenDone: 2000,
  leftUntilDone: 0,
  haveValid: 2000,
  downloadedEver: 2000,
  uploadedEver: 3000,
  peersGettingFromUs: 2,
  rateUpload: 1000.7,
})
const STOPPED = makeTorrent({
  id: 3,
  name: 'stopped',
  status: RpcStatus.stopped,
  sizeWhenDone: 4000,
  leftUntilDone: 3000,
  error: RpcErrorKind.localError,
  errorString: 'No space left on device',
})

// A small but well-formed single-file .torrent.
const TORRENT_FILE = Buffer.from(
  `d8:announce30:http://127.0.0.1:1/announce4:infod6:lengthi3e4:name5:x.bin12:piece lengthi16384e6:pieces20:${'p'.repeat(20)}ee`,
)

let session: MemorySession
let server: RpcServer

beforeEach(async () => {
  session = createMemorySession([HALF, SEEDING, STOPPED])
  server = await createRpcServer({ session, port: 0 })
})

afterEach(async () => {
  await server.close()
})

async function remote(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runProgram('transmission-remote', [`127.0.0.1:${server.port}`, ...args], 15_000)
  return { code: result.code, stdout: result.stdout.toString('utf8'), stderr: result.stderr }
}

async function remoteOk(...args: string[]): Promise<string> {
  const result = await remote(...args)
  expect(result.code, `transmission-remote ${args.join(' ')}: ${result.stderr}${result.stdout}`).toBe(0)
  return result.stdout
}

/** The `-l` rows: id, error mark, Done, Status, Name. */
function rows(
  list: string,
): Array<{ id: number; error: boolean; done: string; status: string; name: string }> {
  const out = []
  for (const line of list.split('\n')) {
    const match =
      /^\s+(\d+)(\*?)\s+(\S+%|n\/a)\s+.*?\s(Downloading|Seeding|Stopped|Idle|Up & Down|Finished|Verifying|Will Verify|Queued)\s+(.+)$/.exec(
        line,
      )
    if (match === null) continue
    out.push({
      id: Number(match[1]),
      error: match[2] === '*',
      done: match[3] ?? '',
      status: match[4] ?? '',
      name: match[5] ?? '',
    })
  }
  return out
}

describeWithTools(['transmission-remote'], 'transmission-remote 3.00', () => {
  it('-l lists every torrent with its Done %, Status and Name (fractional rates rounded)', async () => {
    const list = await remoteOk('-l')
    expect(list).toMatch(/^\s+ID\s+Done\s+Have\s+ETA\s+Up\s+Down\s+Ratio\s+Status\s+Name/)
    expect(rows(list)).toEqual([
      { id: 1, error: false, done: '50%', status: 'Downloading', name: 'half.iso' },
      { id: 2, error: false, done: '100%', status: 'Seeding', name: 'seeding file.mkv' },
      { id: 3, error: true, done: '25%', status: 'Stopped', name: 'stopped' },
    ])
    expect(list).toMatch(/^Sum:/m)
  })

  it('-t 1 -i prints the details with the Hash line', async () => {
    const info = await remoteOk('-t', '1', '-i')
    expect(info).toContain('  Name: half.iso')
    expect(info).toContain(`  Hash: ${HALF.hashString}`)
    expect(info).toContain('  State: Downloading')
    expect(info).toContain('  Percent Done: 50.0%')
    expect(await remoteOk('-t', '3', '-i')).toContain('  Error: No space left on device')
  })

  it('-a FILE.torrent sends the file, byte for byte, and the new torrent is listed', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'x.torrent')
      await writeFile(path, TORRENT_FILE)
      expect(await remoteOk('-a', path)).toContain('responded: "success"')
      const add = session.calls.find((c) => c.method === 'add')
      expect(add).toEqual({ method: 'add', request: { metainfo: new Uint8Array(await readFile(path)) } })
      expect(rows(await remoteOk('-l')).map((r) => r.id)).toEqual([1, 2, 3, 4])
      // A second add of the same torrent is a duplicate: still "success", no new row.
      expect(await remoteOk('-a', path)).toContain('responded: "success"')
      expect(rows(await remoteOk('-l')).map((r) => r.id)).toEqual([1, 2, 3, 4])
    })
  })

  it('-a MAGNET sends it as filename', async () => {
    const magnet = `magnet:?xt=urn:btih:${'c'.repeat(40)}&dn=from%20magnet`
    expect(await remoteOk('-a', magnet)).toContain('responded: "success"')
    expect(session.calls).toEqual([{ method: 'add', request: { magnet } }])
    expect(rows(await remoteOk('-l')).find((r) => r.id === 4)).toMatchObject({
      name: 'from magnet',
      // Downloading with no peer sending: transmission-remote says Idle.
      status: 'Idle',
    })
  })

  it('-t N -S / -s / -v / -r / --remove-and-delete reach the session', async () => {
    await remoteOk('-t', '1', '-S')
    expect(rows(await remoteOk('-l')).find((r) => r.id === 1)?.status).toBe('Stopped')
    await remoteOk('-t', '1', '-s')
    await remoteOk('-t', '2', '-v')
    expect(rows(await remoteOk('-l')).find((r) => r.id === 2)?.status).toBe('Will Verify')
    await remoteOk('-t', SEEDING.hashString, '--reannounce')
    await remoteOk('-t', '2', '-r')
    await remoteOk('-t', '3', '--remove-and-delete')
    expect(session.calls.filter((c) => c.method !== 'add')).toEqual([
      { method: 'stop', ids: [1] },
      { method: 'start', ids: [1], now: false },
      { method: 'verify', ids: [2] },
      { method: 'reannounce', ids: [2] },
      { method: 'remove', ids: [2], deleteData: false },
      { method: 'remove', ids: [3], deleteData: true },
    ])
    expect(rows(await remoteOk('-l')).map((r) => r.id)).toEqual([1])
  })

  it('-d / -u set the speed limits, and -si shows them with the RPC versions', async () => {
    await remoteOk('-d', '300')
    await remoteOk('-u', '50')
    expect(session.calls).toEqual([
      { method: 'setSettings', changes: { speedLimitDown: 300, speedLimitDownEnabled: true } },
      { method: 'setSettings', changes: { speedLimitUp: 50, speedLimitUpEnabled: true } },
    ])
    const info = await remoteOk('-si')
    expect(info).toContain('  Daemon version: 3.00 (bt test double)')
    expect(info).toContain('  RPC version: 16')
    expect(info).toContain('  RPC minimum version: 14')
    expect(info).toContain('  Download directory: /downloads')
    expect(info).toMatch(/Upload speed limit: 50 kB\/s \(Enabled limit: 50 kB\/s/)
    expect(info).toMatch(/Download speed limit: 300 kB\/s \(Enabled limit: 300 kB\/s/)
  })

  it('-st shows the session statistics', async () => {
    const stats = await remoteOk('-st')
    expect(stats).toMatch(/CURRENT SESSION\n\s+Uploaded:\s+1\.00 kB\n\s+Downloaded:\s+2\.00 kB/)
    expect(stats).toMatch(/TOTAL\n\s+Started 3 times/)
  })
})

describeWithTools(['transmission-remote'], 'transmission-remote 3.00 with auth', () => {
  it('is refused without or with wrong -n, and served with the right one', async () => {
    const guarded = await createRpcServer({
      session: createMemorySession([HALF]),
      port: 0,
      auth: { username: 'user', password: 'pa:ss' },
    })
    try {
      const run = (...args: string[]) =>
        runProgram('transmission-remote', [`127.0.0.1:${guarded.port}`, ...args], 15_000)
      for (const args of [['-l'], ['-n', 'user:wrong', '-l']]) {
        const refused = await run(...args)
        expect(refused.code).not.toBe(0)
        expect(refused.stderr + refused.stdout.toString()).toContain('401: Unauthorized')
      }
      const served = await run('-n', 'user:pa:ss', '-l')
      expect(served.code).toBe(0)
      expect(rows(served.stdout.toString('utf8'))).toEqual([
        { id: 1, error: false, done: '50%', status: 'Downloading', name: 'half.iso' },
      ])
    } finally {
      await guarded.close()
    }
  })
})

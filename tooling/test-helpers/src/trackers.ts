/// <reference types="@bt/bittorrent-tracker-types" />
// Real trackers on loopback for integration tests: bittorrent-tracker (npm) in process, and Debian's
// opentracker as a child process (whitelist-only; see shared/INTEROP.md).
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Server from 'bittorrent-tracker/server'
import { acceptsTcp, freeTcpAndUdpPort } from './ports.js'
import { startProcess } from './processes.js'

export interface LoopbackTracker {
  /** `http://127.0.0.1:PORT/announce` */
  httpUrl: string
  /** `udp://127.0.0.1:PORT` */
  udpUrl: string
  close(): Promise<void>
}

/** bittorrent-tracker serving HTTP on 127.0.0.1 and UDP on 127.0.0.1 and ::1, on system-chosen ports. */
export function startBittorrentTracker(
  options: { intervalMs?: number } = {},
): Promise<LoopbackTracker & { udp6Url: string }> {
  const server = new Server({
    http: true,
    udp: true,
    ws: false,
    stats: false,
    interval: options.intervalMs ?? 600_000,
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    // A plain listen(0, '127.0.0.1') binds that host on the IPv6 socket too and fails: name each one
    // (the IPv4 UDP key is `udp`, not `udp4`, whatever the socket property is called).
    server.listen(0, { http: '127.0.0.1', udp: '127.0.0.1', udp6: '::1' }, () => {
      const httpPort = (server.http!.address() as AddressInfo).port
      const udpPort = server.udp4!.address().port
      const udp6Port = server.udp6!.address().port
      resolve({
        httpUrl: `http://127.0.0.1:${httpPort}/announce`,
        udpUrl: `udp://127.0.0.1:${udpPort}`,
        udp6Url: `udp://[::1]:${udp6Port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      })
    })
  })
}

/** Debian's opentracker on 127.0.0.1 (HTTP and UDP on one port), tracking only `infoHashes` (hex). */
export async function startOpentracker(infoHashes: readonly string[]): Promise<LoopbackTracker> {
  const dir = await mkdtemp(join(tmpdir(), 'bt-opentracker-'))
  // Run as root it chroots into `dir` and drops to nobody, who must be able to read the whitelist.
  await chmod(dir, 0o755)
  await writeFile(join(dir, 'whitelist.txt'), infoHashes.map((hash) => `${hash.toLowerCase()}\n`).join(''), {
    mode: 0o644,
  })
  const port = await freeTcpAndUdpPort()
  const process = startProcess('opentracker', [
    '-i',
    '127.0.0.1',
    '-p',
    `${port}`,
    '-P',
    `${port}`,
    '-d',
    dir,
    '-w',
    'whitelist.txt',
  ])
  const close = async () => {
    await process.stop()
    await rm(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 10_000
  while (!(await acceptsTcp(port))) {
    if (Date.now() > deadline || process.child.exitCode !== null) {
      await close()
      throw new Error(`opentracker did not start:\n${process.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { httpUrl: `http://127.0.0.1:${port}/announce`, udpUrl: `udp://127.0.0.1:${port}`, close }
}

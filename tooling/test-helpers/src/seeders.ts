// Real BitTorrent clients from Debian as seeders (or leechers) on loopback, for interop tests.
// Each runs in its own process group with DHT, LPD, PEX, UPnP and uTP off, on a loopback address (its
// `host`, default 127.0.0.1) that it listens on, dials from and announces from.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acceptsTcp, freeTcpAndUdpPort } from './ports.js'
import { type StartedProcess, startProcess } from './processes.js'

export interface RunningPeer {
  /** The address the client accepts peers on (and dials and announces from). */
  host: string
  /** TCP port the client accepts peers on. */
  port: number
  process: StartedProcess
  stop(): Promise<void>
}

export interface PeerProgramInit {
  torrentPath: string
  /** The directory that holds (seeding) or receives (leeching) the torrent's content. */
  directory: string
  /**
   * Its address, default 127.0.0.1. Give each peer of a test its own (127.0.0.2, …: all of 127.0.0.0/8
   * reaches `lo`), so a per-IP ban or connection limit treats them as a real swarm would.
   */
  host?: string
}

/** Transmission 3.00. It never dials loopback peers, only accepts them: our client must dial it. */
export async function startTransmission(init: PeerProgramInit): Promise<RunningPeer> {
  const configDir = await mkdtemp(join(tmpdir(), 'bt-transmission-'))
  const host = init.host ?? '127.0.0.1'
  const port = await freeTcpAndUdpPort(host)
  await writeFile(
    join(configDir, 'settings.json'),
    JSON.stringify({
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'bind-address-ipv4': host,
      'ratio-limit-enabled': false,
      'idle-seeding-limit-enabled': false,
      'peer-port': port,
      encryption: 0,
    }),
  )
  const process = startProcess('transmission-cli', [
    '-g',
    configDir,
    '-w',
    init.directory,
    '-p',
    `${port}`,
    '-et',
    '-M',
    init.torrentPath,
  ])
  return running(host, port, process, () => rm(configDir, { recursive: true, force: true }))
}

/**
 * aria2 1.36 (HTTP trackers only: it reaches UDP trackers through its DHT socket, which is off).
 * `seed: false` exits once complete; `uploadLimit` (e.g. `1M`) caps what it serves, per torrent.
 */
export async function startAria2(
  init: PeerProgramInit & { seed?: boolean; uploadLimit?: string },
): Promise<RunningPeer> {
  const host = init.host ?? '127.0.0.1'
  const port = await freeTcpAndUdpPort(host)
  await mkdir(init.directory, { recursive: true })
  const process = startProcess('aria2c', [
    `--dir=${init.directory}`,
    `--listen-port=${port}`,
    // Binds its listening socket, its peer connections and its tracker requests alike.
    `--interface=${host}`,
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--disable-ipv6=true',
    '--check-integrity=true',
    '--seed-ratio=0.0',
    '--bt-require-crypto=false',
    '--file-allocation=none',
    '--console-log-level=warn',
    '--summary-interval=0',
    ...(init.seed === false ? ['--seed-time=0'] : []),
    ...(init.uploadLimit ? [`--max-upload-limit=${init.uploadLimit}`] : []),
    init.torrentPath,
  ])
  return running(host, port, process, async () => {})
}

async function running(
  host: string,
  port: number,
  process: StartedProcess,
  cleanup: () => Promise<void>,
): Promise<RunningPeer> {
  const stop = async () => {
    await process.stop()
    await cleanup()
  }
  const deadline = Date.now() + 20_000
  while (!(await acceptsTcp(port, host))) {
    if (Date.now() > deadline || process.child.exitCode !== null) {
      await stop()
      throw new Error(`peer program did not start listening on ${host}:${port}:\n${process.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { host, port, process, stop }
}

// A private DHT of real libtorrent nodes on loopback (scripts/lt_dht.py): one Python process, one
// lt.session per node, each on its own 127.0.x.y address, joined to the first node and warmed up so every
// table holds several entries. Commands go over the script's stdin, answers come back as JSON lines.
// Needs `describeWithTools(['py:libtorrent'], …)`. Start a fresh one per test file: announced peers stay
// in libtorrent's stores for ~45 minutes.
import { fileURLToPath } from 'node:url'
import { type StartedProcess, startProcess } from './processes.js'

const SCRIPT = fileURLToPath(new URL('../scripts/lt_dht.py', import.meta.url))
const PYTHON = '/usr/bin/python3'

export interface LibtorrentDhtInit {
  /** Nodes to run. Default 16. */
  count?: number
  /**
   * The first three octets of the nodes' addresses (`127.0.9` gives 127.0.9.2, 127.0.9.3, …). Default: a
   * random 127.0.x with x in 100–199, so test files running at once do not collide.
   */
  subnet?: string
  /** Entries every node's table must hold before the DHT counts as ready. Default 8. */
  warmUpNodes?: number
  /** Default 60 s. */
  timeoutMs?: number
}

export interface LibtorrentDhtNode {
  host: string
  /** UDP port of its DHT. */
  port: number
  /** Its node id, 40 hex digits. */
  id: string
}

export interface LibtorrentDht {
  nodes: LibtorrentDhtNode[]
  /**
   * Makes node `index` announce itself for `infoHash` to the DHT (it adds a tracker-less torrent known by
   * its hash alone, as a magnet download). Resolves with the TCP port it announces.
   */
  announce(index: number, infoHashHex: string): Promise<number>
  /** `dht_get_peers` on node `index`: the `ip:port`s of the first reply with peers, or [] after `timeoutMs`. */
  getPeers(index: number, infoHashHex: string, timeoutMs?: number): Promise<string[]>
  /** `getPeers`, also saying how long libtorrent took to that first reply (measured in the Python process). */
  timedGetPeers(
    index: number,
    infoHashHex: string,
    timeoutMs?: number,
  ): Promise<{ peers: string[]; ms: number }>
  /** The `ip:port`s in node `index`'s routing table. */
  table(index: number): Promise<string[]>
  /** `add_dht_node` on node `index`. */
  addNode(index: number, host: string, port: number): Promise<void>
  /**
   * How far node `index`'s own download of a torrent it was told to `announce` got: it looks the peers
   * up in the DHT and downloads from them (`progress` 1 once every piece is verified).
   */
  progress(index: number, infoHashHex: string): Promise<{ progress: number; state: string }>
  process: StartedProcess
  stop(): Promise<void>
}

type Line = Record<string, unknown>

export async function startLibtorrentDht(init: LibtorrentDhtInit = {}): Promise<LibtorrentDht> {
  const count = init.count ?? 16
  const subnet = init.subnet ?? `127.0.${100 + Math.floor(Math.random() * 100)}`
  const hosts = Array.from({ length: count }, (_, i) => `${subnet}.${i + 2}`)
  const timeoutMs = init.timeoutMs ?? 60_000
  const args = [SCRIPT, '--hosts', hosts.join(','), '--timeout', `${Math.ceil(timeoutMs / 1000)}`]
  args.push('--warm-up-nodes', `${init.warmUpNodes ?? 8}`)
  const process = startProcess(PYTHON, args, { stdin: 'pipe' })

  const waiters = new Map<number, (line: Line) => void>()
  let onFirst: ((line: Line) => void) | undefined
  let buffered = ''
  process.child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8')
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const text = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      let line: Line
      try {
        line = JSON.parse(text) as Line
      } catch {
        continue
      }
      const id = typeof line.id === 'number' ? line.id : undefined
      if (id !== undefined) {
        waiters.get(id)?.(line)
        waiters.delete(id)
      } else onFirst?.(line)
    }
  })

  try {
    const ready = await new Promise<Line>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`lt_dht.py not ready within ${timeoutMs} ms:\n${process.output()}`)),
        timeoutMs + 5_000,
      )
      onFirst = (line) => {
        clearTimeout(timer)
        resolve(line)
      }
      process.exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`lt_dht.py exited with ${code}:\n${process.output()}`))
      })
    })
    if (ready.event !== 'ready') throw new Error(`lt_dht.py failed: ${String(ready.message)}`)
    let nextId = 1
    const call = (command: Line, waitMs: number): Promise<Line> =>
      new Promise((resolve, reject) => {
        const id = nextId++
        const timer = setTimeout(() => {
          waiters.delete(id)
          reject(new Error(`lt_dht.py did not answer ${JSON.stringify(command)}:\n${process.output()}`))
        }, waitMs)
        waiters.set(id, (line) => {
          clearTimeout(timer)
          resolve(line)
        })
        process.child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`)
      })
    const timedGetPeers = async (index: number, infoHashHex: string, waitMs = 10_000) => {
      const line = await call(
        { cmd: 'get_peers', node: index, infoHash: infoHashHex, timeout: waitMs / 1000 },
        waitMs + 10_000,
      )
      return { peers: line.peers as string[], ms: Number(line.seconds) * 1000 }
    }
    return {
      nodes: ready.nodes as LibtorrentDhtNode[],
      async announce(index, infoHashHex) {
        return Number((await call({ cmd: 'announce', node: index, infoHash: infoHashHex }, 10_000)).port)
      },
      async getPeers(index, infoHashHex, waitMs) {
        return (await timedGetPeers(index, infoHashHex, waitMs)).peers
      },
      timedGetPeers,
      async table(index) {
        return (await call({ cmd: 'table', node: index }, 10_000)).nodes as string[]
      },
      async addNode(index, host, port) {
        await call({ cmd: 'add_node', node: index, host, port }, 10_000)
      },
      async progress(index, infoHashHex) {
        const line = await call({ cmd: 'progress', node: index, infoHash: infoHashHex }, 10_000)
        if (typeof line.error === 'string') throw new Error(line.error)
        return { progress: Number(line.progress), state: String(line.state) }
      },
      process,
      stop: () => process.stop(),
    }
  } catch (error) {
    await process.stop()
    throw error
  }
}

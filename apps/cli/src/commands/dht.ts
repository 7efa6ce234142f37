// `bt dht peers <infohash|magnet>` (a DHT lookup, printed as `bt peers` prints tracker peers) and
// `bt dht node` (a standalone DHT node until Ctrl-C: a bootstrap node for local swarms and tests).
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createDht, type Dht, loadDhtState } from '@bt/dht'
import { parseMagnet } from '@bt/metainfo'
import { formatPeerAddress } from '@bt/peer-address'
import type { Command } from 'commander'
import { collectHostPort, parseListenPort, parseSeconds } from '../arg-parsers.js'
import type { CliIo, RegisterCommand } from '../context.js'
import { CliError, UsageError } from '../errors.js'
import { displayText, writeJson, writeLines } from '../output.js'
import { stateDirOf } from '../swarm-options.js'

const STATUS_INTERVAL_MS = 5000

interface NodeOptions {
  dhtPort: number
  host?: string
  dhtBootstrap?: string[]
  stateDir?: string
}

export const registerDht: RegisterCommand = (program, { io, signal }) => {
  const dht = program.command('dht').description('the Mainline DHT (BEP 5): look peers up, or run a node')
  nodeOptions(
    dht
      .command('peers')
      .description('look up the peers of a torrent in the DHT and print them, one ip:port per line')
      .argument('<torrent>', 'a 40-hex info hash, or a magnet: link')
      .option('--timeout <seconds>', 'give up after this long', parseSeconds, 30)
      .option('--json', 'the peers and the lookup statistics as one JSON object'),
    0,
  ).action(async (target: string, options: NodeOptions & { timeout: number; json?: boolean }) => {
    const infoHash = infoHashOf(target)
    const node = await startNode(options, io)
    // The lookup ends by itself, at the timeout (keeping what it found by then) or on Ctrl-C.
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), options.timeout * 1000)
    const onAbort = () => controller.abort()
    signal.addEventListener('abort', onAbort, { once: true })
    const found = new Set<string>()
    try {
      const result = await node
        .getPeers(infoHash, {
          signal: controller.signal,
          onPeer: (peer) => found.add(formatPeerAddress(peer)),
        })
        .catch(() => undefined)
      signal.throwIfAborted()
      for (const peer of result?.peers ?? []) found.add(formatPeerAddress(peer))
      const lines = [...found]
      if (options.json) writeJson(io.stdout, { peers: lines, stats: result?.stats ?? null })
      else writeLines(io.stdout, lines)
      if (lines.length === 0) throw new CliError('the DHT lookup found no peer')
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      await stopNode(node, options, io)
    }
  })
  nodeOptions(
    dht.command('node').description('run a DHT node until Ctrl-C (a bootstrap node for local swarms)'),
    6881,
  ).action(async (options: NodeOptions) => {
    const node = await startNode(options, io)
    try {
      const address = node.address()
      writeLines(io.stdout, [
        `DHT node ${Buffer.from(node.nodeId).toString('hex')} on udp ${address ? formatPeerAddress(address) : '?'}`,
      ])
      const timer = setInterval(() => {
        const stats = node.stats()
        io.stderr(`nodes ${stats.nodes.v4 + stats.nodes.v6}  queries served ${stats.queriesAnswered}\n`)
      }, STATUS_INTERVAL_MS)
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve()
        else signal.addEventListener('abort', () => resolve(), { once: true })
      })
      clearInterval(timer)
    } finally {
      await stopNode(node, options, io)
    }
    signal.throwIfAborted()
  })
}

function nodeOptions(command: Command, defaultPort: number): Command {
  return command
    .option(
      '--dht-port <port>',
      `UDP port (0: any free port; default ${defaultPort})`,
      parseListenPort,
      defaultPort,
    )
    .option('--host <address>', 'address to bind (default: every interface)')
    .option(
      '--dht-bootstrap <host:port>',
      'bootstrap from this node (repeatable; replaces the default routers)',
      collectHostPort,
    )
    .option(
      '--state-dir <dir>',
      'where the DHT state is kept (default: $XDG_STATE_HOME/bt or ~/.local/state/bt)',
    )
}

function statePath(options: NodeOptions, io: CliIo): string | undefined {
  const dir = stateDirOf(options, io)
  return dir === undefined ? undefined : join(dir, 'dht.json')
}

async function startNode(options: NodeOptions, io: CliIo): Promise<Dht> {
  const path = statePath(options, io)
  const state = path ? await loadDhtState(path).catch(() => undefined) : undefined
  const node = createDht({
    port: options.dhtPort,
    ...(options.host ? { host: options.host } : {}),
    ...(state ? { state } : {}),
    ...(options.dhtBootstrap ? { bootstrap: options.dhtBootstrap } : {}),
  })
  node.on('warning', (warning) => {
    if (warning.type === 'bootstrap-failed')
      io.stderr(`bt: no DHT bootstrap node answered (${warning.tried} tried)\n`)
  })
  try {
    await node.start()
  } catch (error) {
    await node.close().catch(() => {})
    throw new CliError(
      `cannot start the DHT node: ${displayText(error instanceof Error ? error.message : String(error))}`,
    )
  }
  return node
}

async function stopNode(node: Dht, options: NodeOptions, io: CliIo): Promise<void> {
  const path = statePath(options, io)
  if (path) {
    await mkdir(dirname(path), { recursive: true }).catch(() => {})
    await node.save(path).catch(() => {})
  }
  await node.close()
}

function infoHashOf(target: string): Uint8Array {
  if (/^[0-9a-f]{40}$/i.test(target)) return Buffer.from(target, 'hex')
  if (/^magnet:\?/i.test(target)) return parseMagnet(target).infoHashBytes
  throw new UsageError(`'${displayText(target)}' is neither a 40-hex info hash nor a magnet link`)
}

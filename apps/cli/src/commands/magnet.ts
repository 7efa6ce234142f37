// The magnet building blocks: `bt magnet_parse <magnet>` (what the link says, offline) and
// `bt magnet_handshake <magnet>` (one peer's handshake and its BEP 10 extension handshake).
import {
  AllTrackersFailedError,
  announceOnce,
  createTrackerTransport,
  generatePeerId,
  magnetPeerAddresses,
  metadataServer,
  UT_METADATA,
} from '@bt/client-core'
import { type MagnetLink, parseMagnet } from '@bt/metainfo'
import { formatPeerAddress, type PeerAddress } from '@bt/peer-address'
import {
  connectPeer,
  createExtensionRegistry,
  type ExtendedHandshake,
  type PeerConnection,
  reservedBytes,
} from '@bt/peer-wire'
import { collectPeer, parsePort, parseSeconds } from '../arg-parsers.js'
import type { CommandContext, RegisterCommand } from '../context.js'
import { CliError } from '../errors.js'
import { toHex, writeJson, writeLines } from '../output.js'
import { magnetJson, magnetLines } from '../torrent-summary.js'

export const registerMagnetParse: RegisterCommand = (program, { io }) => {
  program
    .command('magnet_parse')
    .alias('magnet-parse')
    .description('show what a magnet link says (offline: nothing is fetched)')
    .argument('<magnet>', 'a magnet: link')
    .option('--json', 'print one JSON object instead of lines')
    .addHelpText(
      'after',
      `
Output: "Tracker URL: <first tr>" and "Info Hash: <40 hex>", then Name, Trackers, Web Seeds and
Peers when present. --json gives infoHash, name, trackers, webSeeds, peers.`,
    )
    .action((source: string, options: { json?: boolean }) => {
      const magnet = parseMagnet(source)
      if (options.json) writeJson(io.stdout, magnetJson(magnet))
      else writeLines(io.stdout, magnetLines(magnet))
    })
}

interface MagnetHandshakeOptions {
  peer: PeerAddress[]
  port: number
  timeout: number
}

export const registerMagnetHandshake: RegisterCommand = (program, { io, signal }) => {
  program
    .command('magnet_handshake')
    .alias('magnet-handshake')
    .description("handshake with a peer of a magnet link's swarm and print its ut_metadata extension id")
    .argument('<magnet>', 'a magnet: link')
    .option('--peer <ip:port>', 'handshake with this peer instead of asking the trackers', collectPeer, [])
    .option('--port <port>', 'the listen port to announce', parsePort, 6881)
    .option('--timeout <seconds>', 'how long to wait for each tracker and peer', parseSeconds, 15)
    .addHelpText(
      'after',
      `
Peers come from --peer, else the link's x.pe peers, else its trackers (announced with left = 1: the
size is unknown). They are tried in turn until one completes the BitTorrent handshake and the
extension handshake (BEP 10).
Output: "Peer ID: <40 hex digits>" and "Peer Metadata Extension ID: <n>" (the peer's id for
ut_metadata). The handshake's reserved bytes are exactly 00 00 00 00 00 10 00 00, and the extension
handshake is the first message we send.`,
    )
    .action(async (source: string, options: MagnetHandshakeOptions) => {
      const magnet = parseMagnet(source)
      const peerId = generatePeerId()
      const peers = options.peer.length > 0 ? options.peer : magnetPeerAddresses(magnet)
      const candidates =
        peers.length > 0 ? peers : await trackerPeers(magnet, peerId, options, { io, signal })
      const failures: string[] = []
      for (const peer of candidates) {
        signal.throwIfAborted()
        try {
          const { conn, handshake } = await extensionHandshake(
            peer,
            magnet.infoHashBytes,
            peerId,
            options.timeout,
            signal,
          )
          conn.close()
          const id = handshake.m.get(UT_METADATA)
          if (id === undefined) {
            failures.push(`${formatPeerAddress(peer)}: does not support ut_metadata`)
            continue
          }
          writeLines(io.stdout, [`Peer ID: ${toHex(conn.remotePeerId)}`, `Peer Metadata Extension ID: ${id}`])
          return
        } catch (error) {
          signal.throwIfAborted()
          failures.push(`${formatPeerAddress(peer)}: ${(error as Error).message}`)
        }
      }
      for (const failure of failures) io.stderr(`bt: ${failure}\n`)
      throw new CliError(
        candidates.length === 0
          ? 'no peers to try'
          : `none of ${candidates.length} peers completed the handshakes`,
      )
    })
}

/** Peers from the magnet's trackers: the first tracker that answers. */
async function trackerPeers(
  magnet: MagnetLink,
  ourId: Uint8Array,
  { port, timeout }: MagnetHandshakeOptions,
  { io, signal }: CommandContext,
): Promise<PeerAddress[]> {
  const { trackers, infoHashBytes: infoHash } = magnet
  if (trackers.length === 0) throw new CliError('the magnet link has no trackers and no peers: give --peer')
  const transport = createTrackerTransport()
  try {
    const response = await announceOnce(
      trackers.map((url) => [url]),
      {
        infoHash,
        peerId: ourId,
        port,
        uploaded: 0,
        downloaded: 0,
        left: 1,
        numwant: 50,
        key: Math.floor(Math.random() * 0xffffffff),
      },
      transport,
      { signal, requestTimeoutMs: timeout * 1000 },
    )
    return response.peers
  } catch (error) {
    if (!(error instanceof AllTrackersFailedError) || signal.aborted) throw error
    for (const { url, error: cause } of error.failures) io.stderr(`bt: ${url}: ${cause.message}\n`)
    throw new CliError(`all ${error.failures.length} trackers failed`)
  } finally {
    await transport.close()
  }
}

/** Handshake and extension handshake with one peer; resolves once the peer's extension handshake is in. */
async function extensionHandshake(
  peer: PeerAddress,
  infoHash: Uint8Array,
  ourId: Uint8Array,
  timeout: number,
  signal: AbortSignal,
): Promise<{ conn: PeerConnection; handshake: ExtendedHandshake }> {
  const conn = await connectPeer(
    peer,
    {
      infoHash,
      peerId: ourId,
      reserved: reservedBytes({ extended: true }),
      // We advertise ut_metadata (and reject requests: we have no metadata to give).
      extensions: createExtensionRegistry([metadataServer(() => undefined)]),
    },
    { signal, connectTimeoutMs: timeout * 1000, handshakeTimeoutMs: timeout * 1000 },
  )
  if (!conn.negotiated.extended) {
    conn.close()
    throw new Error('the peer does not support the extension protocol')
  }
  const handshake = await new Promise<ExtendedHandshake>((resolve, reject) => {
    const timer = setTimeout(() => {
      conn.close()
      reject(new Error(`no extension handshake within ${timeout} s`))
    }, timeout * 1000)
    conn.on('message', (message) => {
      if (message.type !== 'extended-handshake') return
      clearTimeout(timer)
      resolve(message.handshake)
    })
    conn.once('close', (reason) => {
      clearTimeout(timer)
      reject(reason ?? new Error('the peer closed the connection'))
    })
  })
  return { conn, handshake }
}

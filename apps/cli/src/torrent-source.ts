// What a command names as its torrent: a .torrent file (or `-` for stdin), or a magnet link whose
// metadata comes from the swarm (BEP 9) before anything else can happen.
import type { Client } from '@bt/client-core'
import { type MagnetLink, type Metainfo, parseMagnet, parseTorrent } from '@bt/metainfo'
import type { PeerAddress } from '@bt/peer-address'
import type { AlertMode } from './alert-output.js'
import type { CliIo } from './context.js'
import { MAX_TORRENT_FILE_BYTES, readInputFile } from './input.js'

export function isMagnetLink(source: string): boolean {
  return /^magnet:\?/i.test(source.trim())
}

export interface LoadedTorrent {
  meta: Metainfo
  /** Peers met while fetching a magnet's metadata: the download dials them first. */
  peers: PeerAddress[]
}

export interface LoadTorrentOptions {
  io: CliIo
  signal: AbortSignal
  /** Fetches a magnet's metadata; listen first, so trackers learn the real port. */
  client: Client
  /** Peers to ask besides the magnet's trackers and `x.pe`. */
  peers?: readonly PeerAddress[]
  /** Says on stderr that metadata is being fetched, and from how many peers. Default true. */
  report?: boolean
  /** How the fetch's alerts are shown (`reportAlerts`). Default 'human'. */
  alerts?: AlertMode
}

export async function loadTorrent(source: string, options: LoadTorrentOptions): Promise<LoadedTorrent> {
  if (!isMagnetLink(source)) return { meta: await readTorrentFile(source, options), peers: [] }
  return await fetchMagnetMetadata(parseMagnet(source), options)
}

/** A .torrent file (or `-`, stdin), parsed: no client needed, nothing goes online. */
export async function readTorrentFile(
  source: string,
  { io, signal }: { io: CliIo; signal: AbortSignal },
): Promise<Metainfo> {
  return parseTorrent(await readInputFile(source, io, { maxBytes: MAX_TORRENT_FILE_BYTES, signal }))
}

async function fetchMagnetMetadata(magnet: MagnetLink, options: LoadTorrentOptions): Promise<LoadedTorrent> {
  // Loaded here: it pulls in the engine, which a .torrent file never needs.
  const { reportAlerts } = await import('./alert-output.js')
  const fetch = options.client.fetchMetadata(magnet, {
    signal: options.signal,
    ...(options.peers ? { peers: options.peers } : {}),
  })
  reportAlerts(fetch, options.io, options.alerts ?? 'human')
  if (options.report ?? true) {
    const name = magnet.name ?? magnet.infoHash
    options.io.stderr(`Fetching metadata of ${name} from the swarm…\n`)
    let reported = 0
    fetch.on('peers', (_connected, withMetadata) => {
      if (withMetadata <= reported) return
      reported = withMetadata
      options.io.stderr(`  ${withMetadata} peer${withMetadata === 1 ? '' : 's'} with metadata\n`)
    })
  }
  return await fetch.done
}

// Every `bt` command, in the order `bt --help` lists them, with the names it answers to. A command
// line loads only its command's module (and what that imports): `bt info` never loads the engine, the
// DHT or the daemon. A new command is a file here and an entry below (a test checks the names).
import type { RegisterCommand } from '../context.js'

export interface CommandEntry {
  /** Each name and alias the module registers. */
  readonly names: readonly string[]
  load(): Promise<readonly RegisterCommand[]>
}

export const commands: readonly CommandEntry[] = [
  {
    names: ['download', 'magnet_download', 'magnet-download'],
    load: async () => [(await import('./download.js')).registerDownload],
  },
  { names: ['seed'], load: async () => [(await import('./seed.js')).registerSeed] },
  { names: ['stream'], load: async () => [(await import('./stream.js')).registerStream] },
  { names: ['daemon'], load: async () => [(await import('./daemon.js')).registerDaemon] },
  {
    names: ['info', 'magnet_info', 'magnet-info'],
    load: async () => [(await import('./info.js')).registerInfo],
  },
  { names: ['create'], load: async () => [(await import('./create.js')).registerCreate] },
  { names: ['verify'], load: async () => [(await import('./verify.js')).registerVerify] },
  { names: ['peers'], load: async () => [(await import('./peers.js')).registerPeers] },
  { names: ['dht'], load: async () => [(await import('./dht.js')).registerDht] },
  { names: ['handshake'], load: async () => [(await import('./handshake.js')).registerHandshake] },
  {
    names: ['download_piece', 'download-piece', 'magnet_download_piece', 'magnet-download-piece'],
    load: async () => [(await import('./download-piece.js')).registerDownloadPiece],
  },
  {
    names: ['magnet_parse', 'magnet-parse', 'magnet_handshake', 'magnet-handshake'],
    load: async () => {
      const module = await import('./magnet.js')
      return [module.registerMagnetParse, module.registerMagnetHandshake]
    },
  },
  { names: ['decode'], load: async () => [(await import('./decode.js')).registerDecode] },
]

/**
 * The registrations a command line needs: its command's alone when its first word names one, every
 * command otherwise (help, the version, a typo that deserves suggestions).
 */
export async function commandsFor(argv: readonly string[]): Promise<readonly RegisterCommand[]> {
  const first = argv[0]
  const own = commands.find((entry) => first !== undefined && entry.names.includes(first))
  const entries = own ? [own] : commands
  return (await Promise.all(entries.map((entry) => entry.load()))).flat()
}

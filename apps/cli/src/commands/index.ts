// Every `bt` command, in the order `bt --help` lists them. A new command is a file here and a line below.
import type { RegisterCommand } from '../context.js'
import { registerCreate } from './create.js'
import { registerDaemon } from './daemon.js'
import { registerDecode } from './decode.js'
import { registerDht } from './dht.js'
import { registerDownload } from './download.js'
import { registerDownloadPiece } from './download-piece.js'
import { registerHandshake } from './handshake.js'
import { registerInfo } from './info.js'
import { registerMagnetHandshake, registerMagnetParse } from './magnet.js'
import { registerPeers } from './peers.js'
import { registerSeed } from './seed.js'
import { registerStream } from './stream.js'
import { registerVerify } from './verify.js'

export const commands: readonly RegisterCommand[] = [
  registerDownload,
  registerSeed,
  registerStream,
  registerDaemon,
  registerInfo,
  registerCreate,
  registerVerify,
  registerPeers,
  registerDht,
  registerHandshake,
  registerDownloadPiece,
  registerMagnetParse,
  registerMagnetHandshake,
  registerDecode,
]

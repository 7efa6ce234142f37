// Every `bt` command, in the order `bt --help` lists them. A new command is a file here and a line below.
import type { RegisterCommand } from '../context.js'
import { registerCreate } from './create.js'
import { registerDecode } from './decode.js'
import { registerInfo } from './info.js'
import { registerPeers } from './peers.js'

export const commands: readonly RegisterCommand[] = [
  registerInfo,
  registerCreate,
  registerPeers,
  registerDecode,
]

// What a node keeps across restarts: its id and its good nodes, as a small JSON file written atomically
// (a temp file, fsync, rename), so a restart bootstraps without the routers and a crash never leaves half a file.
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { canonicalIp } from '@bt/peer-address'
import { DhtStateError } from './errors.js'

export interface DhtState {
  /** Our node id, 40 hex digits. */
  id: string
  /** Nodes that answered us recently, IPv4 and IPv6 alike. */
  nodes: { id: string; host: string; port: number }[]
}

const MAX_SAVED_NODES = 200
const HEX_ID = /^[0-9a-f]{40}$/

export async function saveDhtState(path: string, state: DhtState): Promise<void> {
  const text = `${JSON.stringify({ version: 1, id: state.id, nodes: state.nodes.slice(0, MAX_SAVED_NODES) })}\n`
  const temp = `${path}.${process.pid}.tmp`
  const handle = await open(temp, 'w', 0o600)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
  // The rename is durable only once the directory entry is on disk too.
  try {
    const dir = await open(dirname(path), 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  } catch {}
}

/** The saved state, or undefined when there is no file yet. Malformed nodes are dropped, not fatal. */
export async function loadDhtState(path: string): Promise<DhtState | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new DhtStateError(path, 'cannot read it', error)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new DhtStateError(path, 'not JSON', error)
  }
  const record = parsed as { version?: unknown; id?: unknown; nodes?: unknown }
  if (typeof record !== 'object' || record === null || record.version !== 1) {
    throw new DhtStateError(path, 'not a version 1 DHT state')
  }
  if (typeof record.id !== 'string' || !HEX_ID.test(record.id))
    throw new DhtStateError(path, 'no valid node id')
  const nodes: DhtState['nodes'] = []
  for (const node of Array.isArray(record.nodes) ? record.nodes.slice(0, MAX_SAVED_NODES) : []) {
    const { id, host, port } = (node ?? {}) as { id?: unknown; host?: unknown; port?: unknown }
    if (typeof id !== 'string' || !HEX_ID.test(id) || typeof host !== 'string') continue
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) continue
    const canonical = canonicalIp(host)
    if (canonical) nodes.push({ id, host: canonical, port })
  }
  return { id: record.id, nodes }
}

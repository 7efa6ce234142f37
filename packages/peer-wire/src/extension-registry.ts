// BEP 10 extensions plug in here: the registry gives each extension name a local message id, the
// connection advertises those ids in its extended handshake's `m`, and routes incoming extended messages
// by id to the extension's handler. One registry (and one handler object) serves every connection.
import type { PeerConnection } from './connection.js'
import type { ExtendedHandshake } from './extended-handshake.js'

export interface PeerExtension {
  /** The name in `m`, e.g. `ut_metadata`. */
  readonly name: string
  /** Called when the peer's extended handshake arrives (again on every update it sends). */
  onHandshake?(connection: PeerConnection, handshake: ExtendedHandshake): void
  /** Called for each extended message the peer sends under our id for this extension. */
  onMessage?(connection: PeerConnection, payload: Uint8Array): void
}

export interface ExtensionRegistry {
  /**
   * Adds an extension under the next local id (1, 2, …) and returns that id. Connections whose
   * extended handshake was already sent do not learn about it.
   */
  register(extension: PeerExtension): number
  /** Our id for `name`, which the peer must use when sending it to us. */
  localId(name: string): number | undefined
  /** The extension registered under our id `id`. */
  byId(id: number): PeerExtension | undefined
  /** Name → local id: the `m` dictionary we advertise. */
  readonly ids: ReadonlyMap<string, number>
}

export function createExtensionRegistry(extensions: readonly PeerExtension[] = []): ExtensionRegistry {
  const ids = new Map<string, number>()
  const byId: PeerExtension[] = []
  const registry: ExtensionRegistry = {
    register(extension) {
      if (typeof extension.name !== 'string' || extension.name.length === 0) {
        throw new TypeError('peer-wire: an extension needs a name')
      }
      if (ids.has(extension.name)) {
        throw new Error(`peer-wire: extension ${extension.name} is already registered`)
      }
      const id = ids.size + 1
      if (id > 255) throw new RangeError('peer-wire: at most 255 extensions fit in one-byte ids')
      ids.set(extension.name, id)
      byId[id] = extension
      return id
    },
    localId: (name) => ids.get(name),
    byId: (id) => byId[id],
    ids,
  }
  for (const extension of extensions) registry.register(extension)
  return registry
}

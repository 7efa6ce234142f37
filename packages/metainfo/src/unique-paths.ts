// Keeps sanitised file paths apart: two files of a torrent must never land on one file on disk, on any
// filesystem a user may have. Names are compared the way the most permissive filesystems do
// (case-insensitive like NTFS and APFS, normalisation-insensitive like APFS), and a file may not take
// the place of a directory another file needs (`a` and `a/b`). A later path that collides is renamed
// `name (1).ext`, `name (2).ext`, … in torrent order, so the result is deterministic.
import { numberedName } from './safe-path.js'

interface DirectoryNode {
  /** Folded final name → what took it. */
  readonly entries: Map<string, DirectoryNode | 'file'>
  /** Sanitised directory name → the directory it became, so later files of the torrent join it. */
  readonly directories: Map<string, { readonly name: string; readonly node: DirectoryNode }>
  /** Next number to try per family of numbered names, so renaming stays linear overall. */
  readonly nextNumber: Map<string, number>
}

function directoryNode(): DirectoryNode {
  return { entries: new Map(), directories: new Map(), nextNumber: new Map() }
}

/** Case- and normalisation-insensitive form of a name, for comparisons only. */
export function foldName(name: string): string {
  // ASCII needs neither normalisation nor the round trip below; it is most names, and ICU calls are slow.
  let ascii = true
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) >= 0x80) {
      ascii = false
      break
    }
  }
  if (ascii) return name.toLowerCase()
  // Upper then lower also merges letters whose only uppercase is shared (ſ and s, K and the Kelvin sign).
  return name.normalize('NFC').toUpperCase().toLowerCase()
}

export class UniquePaths {
  private readonly root = directoryNode()

  /**
   * Reserves a path of sanitised components and returns it, renamed where it would collide. The
   * array is updated in place (a million files would otherwise mean a million more arrays).
   */
  claim(path: string[]): string[] {
    let node = this.root
    const last = path.length - 1
    for (let i = 0; i < last; i++) {
      const component = path[i]!
      let directory = node.directories.get(component)
      if (directory === undefined) {
        const [name, folded] = this.freeName(node, component)
        directory = { name, node: directoryNode() }
        node.entries.set(folded, directory.node)
        node.directories.set(component, directory)
      }
      node = directory.node
      path[i] = directory.name
    }
    const [name, folded] = this.freeName(node, path[last]!)
    node.entries.set(folded, 'file')
    path[last] = name
    return path
  }

  /** `name`, or the first numbered spelling of it nobody took, with its folded form. */
  private freeName(node: DirectoryNode, name: string): [name: string, folded: string] {
    const folded = foldName(name)
    if (!node.entries.has(folded)) return [name, folded]
    const family = foldName(numberedName(name, 1))
    let n = node.nextNumber.get(family) ?? 1
    for (; ; n++) {
      const candidate = numberedName(name, n)
      const candidateFolded = foldName(candidate)
      if (!node.entries.has(candidateFolded)) {
        node.nextNumber.set(family, n + 1)
        return [candidate, candidateFolded]
      }
    }
  }
}

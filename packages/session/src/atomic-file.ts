// Crash-safe writes for the state dir: the new bytes go to a temporary file that is fsynced, renamed
// over the old one and made durable by an fsync of the directory, so a `kill -9` or power cut leaves
// either the old file or the new one, never a torn mix.
import { constants, open, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'

let counter = 0

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  // Unique per write: two writes of one file may overlap (a record saved while the previous save runs).
  const temporary = `${path}.${process.pid}.${++counter}.tmp`
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644)
  try {
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => undefined)
    throw error
  }
  await syncDirectory(dirname(path))
}

/** Deletes a file (if there) and makes the deletion durable. */
export async function removeFileDurably(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  await syncDirectory(dirname(path))
}

/** Makes a rename or unlink durable. Some platforms cannot fsync a directory; nothing to do there. */
export async function syncDirectory(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, constants.O_RDONLY)
  } catch {
    return
  }
  try {
    await handle.sync()
  } catch {
    // EINVAL/EISDIR on platforms without directory fsync.
  } finally {
    await handle.close()
  }
}

// Whole-buffer positional reads and writes: the kernel may transfer fewer bytes than asked (signals,
// quotas, network file systems), so both loop until done. Never appends, never moves a file position.
import type { FileHandle } from 'node:fs/promises'

export async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done)
    // A write that makes no progress would otherwise spin forever.
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' })
    done += bytesWritten
  }
}

/** Fills `target` from `position`; returns how many bytes were read (fewer only at end of file). */
export async function readAll(handle: FileHandle, target: Uint8Array, position: number): Promise<number> {
  let done = 0
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done
}

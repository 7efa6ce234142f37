// Whole-buffer positional reads and writes: the kernel may transfer fewer bytes than asked (signals,
// quotas, network file systems), so both loop until done. Never appends, never moves a file position.
import type { FileHandle } from 'node:fs/promises'

/**
 * Largest single write. A 1 MiB pwrite makes the kernel take large page-cache folios, which on this VM
 * (Firecracker, free pages handed back to the host) are often fresh host memory: 1 GiB from a libtorrent
 * seeder cost 2.6–3.0 s of system CPU with 1 MiB writes, 0.84–0.87 s with 128 KiB ones (aria2, writing
 * 16 KiB blocks, 0.6–0.8 s), and ran at 560–580 MB/s instead of 340–360. Elsewhere the extra syscalls
 * (eight per MiB) cost microseconds.
 */
const MAX_WRITE = 128 * 1024

export async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < data.length) {
    const length = Math.min(MAX_WRITE, data.length - done)
    const { bytesWritten } = await handle.write(data, done, length, position + done)
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

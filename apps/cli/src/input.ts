// Reading the files named on the command line: `-` means stdin, sizes are bounded, and I/O errors
// become one-line messages that name the path as the user typed it.
import { open } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { CliIo } from './context.js'
import { CliError, systemErrorReason } from './errors.js'

/** Larger than any real .torrent (a 22 GB, 10 761-piece torrent is 215 KB); stops `bt info movie.iso`. */
export const MAX_TORRENT_FILE_BYTES = 64 * 1024 * 1024

export async function readInputFile(
  path: string,
  io: CliIo,
  options: { maxBytes: number; signal?: AbortSignal },
): Promise<Uint8Array> {
  if (path === '-') {
    const bytes = await io.readStdin(options.maxBytes)
    if (bytes.length > options.maxBytes) throw tooLarge('stdin', options.maxBytes)
    return bytes
  }
  try {
    const handle = await open(resolve(io.cwd, path), 'r')
    try {
      const { size } = await handle.stat()
      if (size > options.maxBytes) throw tooLarge(path, options.maxBytes)
      return await handle.readFile({ signal: options.signal })
    } finally {
      await handle.close()
    }
  } catch (err) {
    if (err instanceof CliError || !(err instanceof Error) || err.name === 'AbortError') throw err
    throw new CliError(`${path}: ${systemErrorReason(err)}`, { cause: err })
  }
}

function tooLarge(what: string, maxBytes: number): CliError {
  return new CliError(`${what}: too large (over ${maxBytes / (1024 * 1024)} MiB)`)
}

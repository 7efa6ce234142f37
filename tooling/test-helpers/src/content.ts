// Torrent content for tests: pseudo-random bytes that a seed reproduces (so a failure can be replayed),
// trees of files written from a list, and a byte-for-byte comparison of two trees.
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'

/** A file of a content tree: its path under the root (`/`-separated) and its size. */
export interface ContentFileSpec {
  path: string
  length: number
}

/**
 * `length` pseudo-random bytes, the same for the same `seed` (AES-128-CTR over zeros: fast enough for
 * hundreds of megabytes, and unlike `randomBytes` a failing run can be reproduced).
 */
export function pseudoRandomBytes(length: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32))
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()])
}

/**
 * Writes `files` under `root` (creating directories) with pseudo-random content derived from `seed` and
 * each file's path; returns the bytes written, by path.
 */
export async function writeContentTree(
  root: string,
  files: readonly ContentFileSpec[],
  seed = 'content',
): Promise<Map<string, Buffer>> {
  const written = new Map<string, Buffer>()
  for (const file of files) {
    const bytes = pseudoRandomBytes(file.length, `${seed}/${file.path}`)
    const target = join(root, ...file.path.split('/'))
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, bytes)
    written.set(file.path, bytes)
  }
  return written
}

/** Every file under `root` (recursively), as `/`-separated paths relative to it, sorted. */
export async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort()
}

/**
 * Differences between two files or two trees, one line each (`[]` when every path and every byte
 * matches): files missing on either side, sizes and the first differing byte offset.
 */
export async function compareContent(expected: string, actual: string): Promise<string[]> {
  const [expectedStat, actualStat] = await Promise.all([stat(expected), stat(actual).catch(() => undefined)])
  if (actualStat === undefined) return [`${actual} does not exist`]
  if (expectedStat.isFile() || actualStat.isFile()) {
    if (!expectedStat.isFile() || !actualStat.isFile()) return [`${actual}: not the same kind of entry`]
    const difference = await compareFiles(expected, actual)
    return difference === undefined ? [] : [`${actual}: ${difference}`]
  }
  const [expectedFiles, actualFiles] = await Promise.all([listFiles(expected), listFiles(actual)])
  const differences: string[] = []
  const actualSet = new Set(actualFiles)
  for (const path of expectedFiles) {
    if (!actualSet.has(path)) {
      differences.push(`${path}: missing`)
      continue
    }
    actualSet.delete(path)
    const difference = await compareFiles(join(expected, path), join(actual, path))
    if (difference !== undefined) differences.push(`${path}: ${difference}`)
  }
  for (const path of actualSet) differences.push(`${path}: unexpected file`)
  return differences
}

async function compareFiles(expected: string, actual: string): Promise<string | undefined> {
  const [a, b] = await Promise.all([readFile(expected), readFile(actual)])
  if (a.equals(b)) return undefined
  const common = Math.min(a.length, b.length)
  let at = 0
  while (at < common && a[at] === b[at]) at++
  return `${b.length} bytes instead of ${a.length}, first difference at byte ${at}`
}

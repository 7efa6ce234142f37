// Moving a torrent's content (its single file, or its folder) to another download dir: a rename where
// both are on one file system, else a copy then a delete. Never over something already there.
import { cp, lstat, mkdir, realpath, rename, rm } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { MoveTargetExistsError, UnsafePathError } from './errors.js'

export async function moveContent(from: string, to: string): Promise<void> {
  // Nothing downloaded yet: nothing to move.
  if (!(await exists(from))) return
  if (await exists(to)) throw new MoveTargetExistsError(to)
  await mkdir(dirname(to), { recursive: true })
  try {
    await rename(from, to)
    return
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error
  }
  try {
    // Symlinks inside the content are copied as they are, never followed out of it.
    await cp(from, to, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true })
  } catch (error) {
    await rm(to, { recursive: true, force: true })
    throw error
  }
  await rm(from, { recursive: true, force: true })
}

/**
 * Renames `from` to `to` (path components below `root` that differ in their last one) if `from` is
 * there: never over something already there, never through a symlink that leads out of `root`.
 */
export async function renameInside(
  root: string,
  from: readonly string[],
  to: readonly string[],
): Promise<void> {
  const source = join(root, ...from)
  const target = join(root, ...to)
  if (!(await exists(source))) return
  if (await exists(target)) throw new MoveTargetExistsError(target)
  const [realRoot, parent] = await Promise.all([realpath(root), realpath(dirname(source))])
  if (parent !== realRoot && !parent.startsWith(`${realRoot}${sep}`)) throw new UnsafePathError(source)
  await rename(source, target)
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

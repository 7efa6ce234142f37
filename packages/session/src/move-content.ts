// Moving a torrent's content (its single file, or its folder) to another download dir: a rename where
// both are on one file system, else a copy then a delete. Never over something already there.
import { cp, lstat, mkdir, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { MoveTargetExistsError } from './errors.js'

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

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

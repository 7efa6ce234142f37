// Fresh temporary directories for a test file, all removed once its tests are done.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

/** Call at the top of a test file: returns a maker of fresh directories that `afterAll` removes. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = []
  afterAll(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
  })
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bt-piece-store-'))
    made.push(dir)
    return dir
  }
}

// Real torrents (webtorrent-fixtures) against their real content: the store must agree with the
// torrent's creator about which bytes belong to which piece, and never write to seeded content.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseTorrent } from '@bt/metainfo'
import { describe, expect, it } from 'vitest'
import { createFileStore } from '../src/index.js'
import { sameBytes } from './helpers/torrent.js'

const fixtures = fileURLToPath(new URL('fixtures/', import.meta.url))
const content = join(fixtures, 'content')

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort()
}

describe('file store: real torrents and content', () => {
  for (const name of ['wt-alice', 'wt-numbers', 'wt-lots-of-numbers']) {
    it(`verifies ${name} and serves its files byte for byte`, async () => {
      const meta = parseTorrent(await readFile(join(fixtures, 'torrents', `${name}.torrent`)))
      const before = await listing(content)
      const store = await createFileStore(meta, { directory: content, resumeFile: null, workers: 1 })
      expect(store.have.complete).toBe(true)
      expect((await store.recheck({ workers: 0 })).complete).toBe(true)
      for (const [index, file] of meta.files.entries()) {
        if (file.length === 0) continue
        const onDisk = await readFile(join(store.contentPath, ...(meta.multiFile ? file.path : [])))
        const piece = Math.floor(file.offset / meta.pieceLength)
        const begin = file.offset - piece * meta.pieceLength
        const length = Math.min(file.length, meta.layout.pieceLengthAt(piece) - begin)
        expect(
          sameBytes(await store.readBlock(piece, begin, length), onDisk.subarray(0, length)),
          `file ${index}`,
        ).toBe(true)
      }
      await store.close()
      expect(await listing(content)).toEqual(before)
    })
  }
})

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bitfield } from '@bt/bitfield'
import { describe, expect, it } from 'vitest'
import { buildTorrent } from '../test/helpers/torrent.js'
import { decodeResume, encodeResume, writeFileAtomic } from './resume-data.js'

const { meta } = buildTorrent({
  name: 'resume',
  pieceLength: 16384,
  files: [
    { path: ['a'], length: 40000 },
    { path: ['b'], length: 0 },
  ],
})

describe('resume data', () => {
  it('round-trips completion and file states, nanoseconds included', () => {
    const have = new Bitfield(meta.pieceCount)
    have.set(0)
    have.set(2)
    const files = [{ size: 40000, mtimeNs: 1_700_000_000_123_456_789n }, null]
    const decoded = decodeResume(meta, encodeResume(meta, { have, files }))
    expect([...decoded.have.indices()]).toEqual([0, 2])
    expect(decoded.files).toEqual(files)
  })

  it('rejects anything that is not resume data for this torrent', () => {
    const good = JSON.parse(
      Buffer.from(
        encodeResume(meta, { have: new Bitfield(meta.pieceCount), files: [null, null] }),
      ).toString(),
    )
    const variants: [string, unknown][] = [
      ['not JSON', '{'],
      ['not bt resume data', '[]'],
      ['unsupported version', { ...good, version: 2 }],
      ['belongs to torrent', { ...good, infoHash: '00'.repeat(20) }],
      ['piece layout', { ...good, pieceLength: 32768 }],
      ['bad `have`', { ...good, have: 'not base64!' }],
      ['spare bits', { ...good, have: Buffer.from([0xff]).toString('base64') }],
      ['bad `files`', { ...good, files: [null] }],
      ['bad `files[0]`', { ...good, files: [[-1, '5'], null] }],
      ['bad `files[1]`', { ...good, files: [null, [1, 'x']] }],
    ]
    for (const [problem, value] of variants) {
      const bytes = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))
      expect(() => decodeResume(meta, bytes), problem).toThrow(problem)
    }
  })

  it('replaces a file atomically and leaves no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bt-resume-'))
    try {
      const path = join(dir, 'nested', 'state')
      await writeFileAtomic(path, Buffer.from('one'))
      await writeFile(`${path}.tmp`, 'stale temporary from a crash')
      await writeFileAtomic(path, Buffer.from('two'))
      expect(await readFile(path, 'utf8')).toBe('two')
      expect(await readdir(join(dir, 'nested'))).toEqual(['state'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

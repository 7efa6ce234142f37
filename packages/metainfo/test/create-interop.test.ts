// createTorrent against other tools: real-world torrents made by webtorrent and uTorrent, Debian's
// mktorrent (same bytes expected) and libtorrent (same info hash expected, and it must read ours).
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bytesToUtf8, decode } from '@bt/bencode'
import { describeWithTools, startProcess, withTempDir } from '@bt/test-helpers'
import { describe, expect, it } from 'vitest'
import { type CreateTorrentOptions, createTorrent } from '../src/create-torrent.js'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/create')
const TRACKER = 'http://127.0.0.1:1/announce'

describe('createTorrent: real-world torrents', () => {
  // v1 info hashes computed by libtorrent 2.0.8 from the original .torrent files (/work/shared/fixtures).
  it.each([
    ['alice.txt', '722fe65b2aa26d14f35b4ad627d20236e481d924'],
    ['Leaves of Grass by Walt Whitman.epub', 'd2474e86c95b19b8bcfdb92bc12c9d44667cfa36'],
    ['folder', 'b88da2caac6648e6c7d7687e3f89085f7e230e6b'],
    ['numbers', '89d97c2261a21b040cf11caa661a3ba7233bb7e6'],
    ['lots-of-numbers', '114ead6243792ba56297edbb9a78dfba84d4fc00'],
  ])('recreates %s with the original info hash', async (path, infoHash) => {
    const created = await createTorrent(join(fixtures, 'content', path), { pieceLength: 16 * 1024 })
    expect(created.infoHash).toBe(infoHash)
  })
})

interface LibtorrentView {
  infoHash: string
  name: string
  pieceLength: number
  pieceCount: number
  totalSize: number
  files: { path: string; length: number; flags: number }[]
}

/** Runs a short-lived tool to completion (bounded), returning its output; a non-zero exit fails the test. */
async function run(command: string, args: string[]): Promise<string> {
  const started = startProcess(command, args)
  const timer = setTimeout(() => void started.stop(), 60_000)
  const code = await started.exited
  clearTimeout(timer)
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${started.output()}`)
  return started.output()
}

async function libtorrent(...args: string[]): Promise<LibtorrentView> {
  const output = await run('/usr/bin/python3', [join(fixtures, 'libtorrent-torrents.py'), ...args])
  const line = output.split('\n').find((text) => text.startsWith('RESULT '))
  if (line === undefined) throw new Error(`no result from libtorrent:\n${output}`)
  return JSON.parse(line.slice('RESULT '.length)) as LibtorrentView
}

/** mktorrent's torrent of `target`, and ours made with the matching options and its `created by`. */
async function bothTorrents(
  dir: string,
  target: string,
  pieceLog2: number,
  mktorrentArgs: string[],
  options: CreateTorrentOptions,
) {
  const output = join(dir, `mktorrent-${pieceLog2}-${Math.random().toString(36).slice(2)}.torrent`)
  await run('mktorrent', ['-d', '-l', String(pieceLog2), ...mktorrentArgs, '-o', output, target])
  const theirs = new Uint8Array(await readFile(output))
  const theirRoot = decode(theirs) as Map<string, Uint8Array>
  const createdBy = bytesToUtf8(theirRoot.get('created by')!)
  const ours = await createTorrent(target, { ...options, pieceLength: 2 ** pieceLog2, createdBy })
  return { theirs, theirPath: output, ours }
}

async function writeTree(root: string, tree: Record<string, Uint8Array>): Promise<void> {
  for (const [path, bytes] of Object.entries(tree)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), bytes)
  }
}

/** Names whose byte order differs from per-component, case-insensitive, locale and UTF-16 order. */
function mixedTree(): Record<string, Uint8Array> {
  return {
    'a/file1': randomBytes(70_000),
    'a/z/deep': randomBytes(3),
    'a b': randomBytes(20_001),
    'a-b/x': randomBytes(5),
    'a.txt': randomBytes(16_384),
    'B/c': randomBytes(1),
    '.hidden/h': randomBytes(7),
    empty: new Uint8Array(0),
    'dir/zero-too': new Uint8Array(0),
    'é/ü.txt': randomBytes(33),
    'e/z': randomBytes(9),
    '日本/語 ✓.bin': randomBytes(4 * 1024 * 1024 + 17),
    'Ω/last': randomBytes(100_000),
    '😀': randomBytes(4),
    'ｆ/wide': randomBytes(6),
  }
}

describeWithTools(['mktorrent', 'py:libtorrent'], 'createTorrent against mktorrent and libtorrent', () => {
  it('makes the same single-file torrent as mktorrent, byte for byte', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'payload.bin')
      await writeFile(file, randomBytes(9 * 1024 * 1024 + 777))
      for (const pieceLog2 of [15, 18, 20]) {
        const { theirs, theirPath, ours } = await bothTorrents(dir, file, pieceLog2, ['-a', TRACKER], {
          announce: [TRACKER],
        })
        expect(Buffer.from(ours.torrent).equals(theirs)).toBe(true)
        expect((await libtorrent('inspect', theirPath)).infoHash).toBe(ours.infoHash)
      }
    })
  })

  it('makes the same multi-file torrent as mktorrent: same order, empty files, non-ASCII names', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'Tree ✓')
      await writeTree(root, mixedTree())
      const { theirs, theirPath, ours } = await bothTorrents(dir, root, 16, ['-a', TRACKER], {
        announce: [TRACKER],
      })
      expect(Buffer.from(ours.torrent).equals(theirs)).toBe(true)
      const view = await libtorrent('inspect', theirPath)
      expect(view.infoHash).toBe(ours.infoHash)
      expect(view.files.map((file) => file.path)).toEqual(
        ours.files.map((file) => ['Tree ✓', ...file.path].join('/')),
      )
      expect(view.files.filter((file) => file.length === 0)).toHaveLength(2)
    })
  })

  it('matches mktorrent with tiers, private flag, web seeds, comment, source and a name', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'content')
      await writeTree(root, { 'one.bin': randomBytes(50_000), 'two/three.bin': randomBytes(3) })
      const { theirs, ours } = await bothTorrents(
        dir,
        root,
        15,
        [
          ...['-a', 'http://127.0.0.1:1/a,udp://127.0.0.1:2', '-a', 'http://127.0.0.1:3/b'],
          ...[
            '-p',
            '-w',
            'http://127.0.0.1:4/w1,http://127.0.0.1:4/w2',
            '-c',
            'hello ✓',
            '-s',
            'SRC',
            '-n',
            'renamed',
          ],
        ],
        {
          announce: [['http://127.0.0.1:1/a', 'udp://127.0.0.1:2'], 'http://127.0.0.1:3/b'],
          private: true,
          webSeeds: ['http://127.0.0.1:4/w1', 'http://127.0.0.1:4/w2'],
          comment: 'hello ✓',
          source: 'SRC',
          name: 'renamed',
        },
      )
      expect(Buffer.from(ours.torrent).equals(theirs)).toBe(true)

      const single = await bothTorrents(dir, root, 15, ['-a', TRACKER, '-w', 'http://127.0.0.1:4/only'], {
        announce: TRACKER,
        webSeeds: ['http://127.0.0.1:4/only'],
      })
      expect(Buffer.from(single.ours.torrent).equals(single.theirs)).toBe(true)
    })
  })

  it('gives the info hash libtorrent gives for the same files, and libtorrent reads ours', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'Tree ✓')
      await writeTree(root, mixedTree())
      const single = join(dir, 'single.bin')
      await writeFile(single, randomBytes(3 * 1024 * 1024 + 5))
      for (const [target, pieceLength] of [
        [root, 32 * 1024],
        [single, 256 * 1024],
      ] as const) {
        const ours = await createTorrent(target, { pieceLength, announce: [TRACKER] })
        const oursPath = join(dir, 'ours.torrent')
        await writeFile(oursPath, ours.torrent)
        const made = await libtorrent('create', target, String(pieceLength), TRACKER, join(dir, 'lt.torrent'))
        const read = await libtorrent('inspect', oursPath)
        expect(made.infoHash).toBe(ours.infoHash)
        expect(made.files.every((file) => file.flags === 0)).toBe(true)
        expect(read).toEqual(made)
        expect(read).toMatchObject({ pieceLength, pieceCount: ours.pieceCount, totalSize: ours.length })
      }
    })
  })
})

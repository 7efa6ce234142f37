// bt against the tools everyone else uses: mktorrent makes torrents, libtorrent reads them.
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describeWithTools, startProcess, withTempDir } from '@bt/test-helpers'
import { expect, it } from 'vitest'
import { runBt } from './run-bt.js'

const TRACKER = 'http://127.0.0.1:1/announce'

async function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  const child = startProcess(command, args, { cwd })
  const timer = setTimeout(() => void child.stop(), 30_000)
  const code = await child.exited
  clearTimeout(timer)
  if (code !== 0) throw new Error(`${command} exited with ${code}:\n${child.output()}`)
  return child.output()
}

interface LibtorrentView {
  infoHash: string
  totalSize: number
  pieceLength: number
  pieceHashes: string[]
  trackers: [url: string, tier: number][]
  files: string[]
}

/** What libtorrent reads from a .torrent file. */
async function libtorrentView(torrent: string, cwd: string): Promise<LibtorrentView> {
  const script = `
import json, sys
import libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
fs = ti.files()
print(json.dumps({
  "infoHash": str(ti.info_hashes().v1),
  "totalSize": ti.total_size(),
  "pieceLength": ti.piece_length(),
  "pieceHashes": [ti.hash_for_piece(i).hex() for i in range(ti.num_pieces())],
  "trackers": [[t.url, t.tier] for t in ti.trackers()],
  "files": [fs.file_path(i) for i in range(fs.num_files())],
}))`
  return JSON.parse(await run('/usr/bin/python3', ['-c', script, torrent], cwd)) as LibtorrentView
}

function field(stdout: string, name: string): string | undefined {
  return stdout
    .split('\n')
    .find((line) => line.startsWith(`${name}: `))
    ?.slice(name.length + 2)
}

describeWithTools(['mktorrent', 'py:libtorrent'], 'bt with mktorrent and libtorrent', () => {
  it('bt info reads a mktorrent torrent as libtorrent does', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'file'), randomBytes(200_000))
      await run('mktorrent', ['-a', TRACKER, '-l', '15', '-o', 'x.torrent', 'file'], dir)
      const { code, stdout } = await runBt(['info', 'x.torrent'], { cwd: dir })
      expect(code).toBe(0)
      const lt = await libtorrentView('x.torrent', dir)
      expect(lt.infoHash).toMatch(/^[0-9a-f]{40}$/)
      expect(stdout.split('\n').slice(0, 5 + lt.pieceHashes.length)).toEqual([
        `Tracker URL: ${TRACKER}`,
        `Length: ${lt.totalSize}`,
        `Info Hash: ${lt.infoHash}`,
        `Piece Length: ${lt.pieceLength}`,
        'Piece Hashes:',
        ...lt.pieceHashes,
      ])
      expect(lt.pieceHashes).toHaveLength(Math.ceil(200_000 / 32768))
    })
  })

  it('bt create makes a torrent libtorrent agrees with', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'file'), randomBytes(200_000))
      const created = await runBt(
        [
          'create',
          'file',
          '-t',
          `${TRACKER},http://127.0.0.1:2/announce`,
          '-t',
          'udp://127.0.0.1:3',
          '--piece-length',
          '32K',
        ],
        { cwd: dir },
      )
      expect(created.code).toBe(0)
      const lt = await libtorrentView('file.torrent', dir)
      expect(field(created.stdout, 'Info Hash')).toBe(lt.infoHash)
      expect(lt).toMatchObject({ totalSize: 200_000, pieceLength: 32768, files: ['file'] })
      // libtorrent shuffles the trackers inside a tier, as BEP 12 asks.
      expect(lt.trackers.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))).toEqual([
        [TRACKER, 0],
        ['http://127.0.0.1:2/announce', 0],
        ['udp://127.0.0.1:3', 1],
      ])
      const info = await runBt(['info', 'file.torrent'], { cwd: dir })
      expect(info.stdout.split('\n').slice(5, 5 + lt.pieceHashes.length)).toEqual(lt.pieceHashes)
    })
  })

  it('bt create and mktorrent give a directory the same info hash', async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, 'content')
      await mkdir(join(root, 'sub dir', 'deeper'), { recursive: true })
      await writeFile(join(root, 'b.bin'), randomBytes(70_000))
      await writeFile(join(root, 'a.bin'), randomBytes(5_000))
      await writeFile(join(root, 'sub dir', 'Z.txt'), 'upper case sorts first')
      await writeFile(join(root, 'sub dir', 'deeper', 'c.bin'), randomBytes(40_000))
      await writeFile(join(root, '.hidden'), 'dot files are included by both')
      await run('mktorrent', ['-a', TRACKER, '-l', '15', '-o', 'mk.torrent', 'content'], dir)
      const created = await runBt(
        ['create', 'content', '-t', TRACKER, '--piece-length', '32K', '-o', 'bt.torrent'],
        {
          cwd: dir,
        },
      )
      expect(created.code).toBe(0)
      const mk = await libtorrentView('mk.torrent', dir)
      const ours = await libtorrentView('bt.torrent', dir)
      expect(field(created.stdout, 'Info Hash')).toBe(mk.infoHash)
      expect(ours.infoHash).toBe(mk.infoHash)
      expect(ours.files).toEqual(mk.files)
      const info = await runBt(['info', 'mk.torrent'], { cwd: dir })
      expect(field(info.stdout, 'Info Hash')).toBe(mk.infoHash)
    })
  })
})

import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type BencodeDict, decode, spanOf } from '@bt/bencode'
import { withTempDir } from '@bt/test-helpers'
import { describe, expect, it } from 'vitest'
import { runBt } from './run-bt.js'

const TRACKER = 'http://127.0.0.1:1/announce'

/** Info hash and top-level fields of a .torrent, read independently of @bt/metainfo. */
async function readTorrent(
  path: string,
): Promise<{ infoHash: string; root: BencodeDict; info: BencodeDict }> {
  const bytes = await readFile(path)
  const span = spanOf(bytes, ['info'])
  const root = decode(bytes) as BencodeDict
  return {
    infoHash: createHash('sha1').update(bytes.subarray(span.start, span.end)).digest('hex'),
    root,
    info: root.get('info') as BencodeDict,
  }
}

const text = (value: unknown) => Buffer.from(value as Uint8Array).toString('utf8')

function pieceHashes(content: Buffer, pieceLength: number): Buffer {
  const hashes: Buffer[] = []
  for (let at = 0; at < content.length; at += pieceLength) {
    hashes.push(
      createHash('sha1')
        .update(content.subarray(at, at + pieceLength))
        .digest(),
    )
  }
  return Buffer.concat(hashes)
}

describe('bt create', () => {
  it('hashes a file into <name>.torrent and prints the info hash, path and magnet', async () => {
    await withTempDir(async (dir) => {
      const content = randomBytes(100_000)
      await writeFile(join(dir, 'data.bin'), content)
      const { code, stdout, stderr } = await runBt(
        ['create', 'data.bin', '-t', TRACKER, '--piece-length', '32K'],
        {
          cwd: dir,
        },
      )
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      const torrent = await readTorrent(join(dir, 'data.bin.torrent'))
      expect(stdout).toBe(
        [
          `Info Hash: ${torrent.infoHash}`,
          'Torrent: data.bin.torrent',
          `Magnet: magnet:?xt=urn:btih:${torrent.infoHash}&dn=data.bin&tr=${encodeURIComponent(TRACKER)}`,
          '',
        ].join('\n'),
      )
      expect(text(torrent.root.get('announce'))).toBe(TRACKER)
      expect(torrent.info.get('length')).toBe(100_000)
      expect(torrent.info.get('piece length')).toBe(32768)
      expect(Buffer.from(torrent.info.get('pieces') as Uint8Array).equals(pieceHashes(content, 32768))).toBe(
        true,
      )
      // A creation date by default, as mktorrent writes one.
      expect(typeof torrent.root.get('creation date')).toBe('number')

      const info = await runBt(['info', 'data.bin.torrent'], { cwd: dir })
      expect(info.stdout.split('\n').slice(0, 4)).toEqual([
        `Tracker URL: ${TRACKER}`,
        'Length: 100000',
        `Info Hash: ${torrent.infoHash}`,
        'Piece Length: 32768',
      ])
    })
  })

  it('makes tiers from -t (commas within one) and writes every option', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'album', 'disc 2'), { recursive: true })
      await writeFile(join(dir, 'album', 'b.txt'), 'bbbb')
      await writeFile(join(dir, 'album', 'a.txt'), 'aaa')
      await writeFile(join(dir, 'album', 'disc 2', 'c.txt'), 'cc')
      const args = [
        'create',
        'album',
        '-t',
        'http://a.example/announce,http://b.example/announce',
        '-t',
        'udp://c.example:6969',
        '-o',
        'out/x.torrent',
        '--private',
        '-w',
        'https://seed1.example/',
        '--web-seed',
        'https://seed2.example/',
        '-c',
        'a comment',
        '-n',
        'My Album',
        '-s',
        'SRC',
        '--no-creation-date',
        '--json',
      ]
      await mkdir(join(dir, 'out'))
      const { code, stdout, stderr } = await runBt(args, { cwd: dir })
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      const torrent = await readTorrent(join(dir, 'out', 'x.torrent'))
      expect(JSON.parse(stdout)).toEqual({
        infoHash: torrent.infoHash,
        torrent: 'out/x.torrent',
        magnet: expect.stringMatching(
          new RegExp(`^magnet:\\?xt=urn:btih:${torrent.infoHash}&dn=My%20Album&tr=`),
        ),
        name: 'My Album',
        length: 9,
        pieceLength: 16384,
        pieceCount: 1,
        fileCount: 3,
      })
      expect(torrent.root.get('announce-list')).toEqual([
        [
          new TextEncoder().encode('http://a.example/announce'),
          new TextEncoder().encode('http://b.example/announce'),
        ],
        [new TextEncoder().encode('udp://c.example:6969')],
      ])
      expect(torrent.root.has('creation date')).toBe(false)
      expect(text(torrent.root.get('comment'))).toBe('a comment')
      expect(torrent.info.get('private')).toBe(1)
      expect(text(torrent.info.get('source'))).toBe('SRC')
      expect(text(torrent.info.get('name'))).toBe('My Album')

      const json = JSON.parse((await runBt(['info', '--json', 'out/x.torrent'], { cwd: dir })).stdout)
      expect(json).toMatchObject({
        announce: 'http://a.example/announce',
        announceList: [['http://a.example/announce', 'http://b.example/announce'], ['udp://c.example:6969']],
        urlList: ['https://seed1.example/', 'https://seed2.example/'],
        private: true,
        comment: 'a comment',
        creationDate: null,
      })
      expect(json.files.map((file: { path: string }) => file.path)).toEqual([
        'a.txt',
        'b.txt',
        'disc 2/c.txt',
      ])
    })
  })

  it('refuses to overwrite an existing file unless --force', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'data.bin'), randomBytes(1000))
      await writeFile(join(dir, 'data.bin.torrent'), 'precious')
      expect(await runBt(['create', 'data.bin', '-t', TRACKER], { cwd: dir })).toEqual({
        code: 1,
        stdout: '',
        stderr: 'bt: data.bin.torrent already exists (use --force to overwrite it)\n',
      })
      expect(await readFile(join(dir, 'data.bin.torrent'), 'utf8')).toBe('precious')

      const forced = await runBt(['create', 'data.bin', '-t', TRACKER, '--force'], { cwd: dir })
      expect(forced.code).toBe(0)
      const torrent = await readTorrent(join(dir, 'data.bin.torrent'))
      expect(forced.stdout).toContain(`Info Hash: ${torrent.infoHash}\n`)
    })
  })

  it('warns on stderr when no tracker is given, and still creates the torrent', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'data.bin'), randomBytes(1000))
      const { code, stderr } = await runBt(['create', 'data.bin'], { cwd: dir })
      expect(code).toBe(0)
      expect(stderr).toBe(
        'bt: warning: no tracker (-t): peers can find this torrent only through DHT or peer exchange\n',
      )
      expect((await readTorrent(join(dir, 'data.bin.torrent'))).root.has('announce')).toBe(false)
    })
  })

  it('draws progress on a terminal only, and clears it', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'data.bin'), randomBytes(50_000))
      const tty = await runBt(['create', 'data.bin', '-t', TRACKER, '-o', 'a.torrent'], {
        cwd: dir,
        tty: true,
      })
      expect(tty.code).toBe(0)
      expect(tty.stderr).toContain('Hashing 100% (48.8 KiB / 48.8 KiB)')
      expect(tty.stderr.endsWith('\r\x1b[2K')).toBe(true)
      const quiet = await runBt(['create', 'data.bin', '-t', TRACKER, '-o', 'b.torrent', '-q'], {
        cwd: dir,
        tty: true,
      })
      expect(quiet.stderr).toBe('')
      const piped = await runBt(['create', 'data.bin', '-t', TRACKER, '-o', 'c.torrent'], { cwd: dir })
      expect(piped.stderr).toBe('')
    })
  })

  describe('failures', () => {
    it('exits 1 when the input does not exist', async () => {
      await withTempDir(async (dir) => {
        expect(await runBt(['create', 'nope', '-t', TRACKER], { cwd: dir })).toEqual({
          code: 1,
          stdout: '',
          stderr: 'bt: nope: no such file or directory\n',
        })
      })
    })

    it('exits 1 before hashing when the output directory does not exist', async () => {
      await withTempDir(async (dir) => {
        await writeFile(join(dir, 'data.bin'), randomBytes(1000))
        expect(
          await runBt(['create', 'data.bin', '-t', TRACKER, '-o', 'no/such/x.torrent'], { cwd: dir }),
        ).toEqual({
          code: 1,
          stdout: '',
          stderr: 'bt: cannot write no/such/x.torrent: no such directory\n',
        })
      })
    })

    it('exits 1 when there is nothing to hash', async () => {
      await withTempDir(async (dir) => {
        await writeFile(join(dir, 'empty'), '')
        const result = await runBt(['create', 'empty', '-t', TRACKER], { cwd: dir })
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/^bt: metainfo: nothing to hash/)
        await expect(stat(join(dir, 'empty.torrent'))).rejects.toThrow()
      })
    })

    it.each([
      [['--piece-length', '1000'], /^bt: metainfo: piece length must be a power of two/],
      [['--piece-length', '8K'], /^bt: metainfo: piece length must be a power of two/],
      [['--piece-length', 'big'], /^bt: option '--piece-length <size>' argument 'big' is invalid/],
      [['-t', 'not a url'], /^bt: option '-t, --tracker <url\[,url…\]>' argument 'not a url' is invalid/],
      [['-w', 'mirror'], /^bt: option '-w, --web-seed <url>' argument 'mirror' is invalid/],
    ])('exits 2 for %j', async (options, message) => {
      await withTempDir(async (dir) => {
        await writeFile(join(dir, 'data.bin'), randomBytes(1000))
        const result = await runBt(['create', 'data.bin', '-t', TRACKER, ...options], { cwd: dir })
        expect(result.code).toBe(2)
        expect(result.stdout).toBe('')
        expect(result.stderr).toMatch(message)
        await expect(stat(join(dir, 'data.bin.torrent'))).rejects.toThrow()
      })
    })

    it('exits 130 and writes nothing when interrupted', async () => {
      await withTempDir(async (dir) => {
        await writeFile(join(dir, 'data.bin'), randomBytes(1000))
        const controller = new AbortController()
        controller.abort()
        const result = await runBt(['create', 'data.bin', '-t', TRACKER], {
          cwd: dir,
          signal: controller.signal,
        })
        expect(result).toEqual({ code: 130, stdout: '', stderr: 'bt: interrupted\n' })
        await expect(stat(join(dir, 'data.bin.torrent'))).rejects.toThrow()
      })
    })
  })
})

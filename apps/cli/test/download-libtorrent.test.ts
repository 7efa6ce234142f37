// `bt download`, `download_piece`, `handshake` and `verify` against a real libtorrent seeder found through
// a real tracker (bittorrent-tracker): every byte of the result is compared with the source.
import { open, readFile, stat } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import {
  compareContent,
  describeWithTools,
  type LibtorrentSeeder,
  type LoopbackTracker,
  startBittorrentTracker,
  startLibtorrentSeeder,
} from '@bt/test-helpers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bt,
  copyOfSeedDir,
  describeRun,
  freshDir,
  makeFixture,
  pieceBytes,
  progressEvents,
  removeFixture,
  type TorrentFixture,
  waitForSeeders,
} from './swarm.js'

const KIB = 1024
// Many 32 KiB pieces, the last one short (and not a whole number of 16 KiB blocks).
const SINGLE_LENGTH = 3 * 1024 * KIB + 20_000

describeWithTools(['py:libtorrent'], 'bt download from a libtorrent seeder', () => {
  let tracker: LoopbackTracker
  let single: TorrentFixture
  let seeder: LibtorrentSeeder

  beforeAll(async () => {
    tracker = await startBittorrentTracker()
    single = await makeFixture({
      name: 'single.bin',
      length: SINGLE_LENGTH,
      pieceLength: 32 * KIB,
      announce: [tracker.httpUrl],
    })
    seeder = await startLibtorrentSeeder({ torrentPath: single.torrentPath, savePath: single.seedDir })
    expect(seeder.infoHash).toBe(single.infoHash)
    await waitForSeeders(tracker.httpUrl, single.infoHash, 1)
  })

  afterAll(async () => {
    await seeder?.stop()
    await tracker?.close()
    await removeFixture(single)
  })

  it('downloads a single-file torrent into -d DIR, byte-identical', async () => {
    expect(single.pieceCount).toBe(Math.ceil(SINGLE_LENGTH / (32 * KIB)))
    expect(SINGLE_LENGTH % (32 * KIB)).toBeGreaterThan(0)
    const dir = await freshDir(single, 'out-d')
    const run = await bt(['download', single.torrentPath, '-d', dir], { timeoutMs: 60_000 })
    expect(run.code, describeRun(run)).toBe(0)
    const target = join(dir, single.name)
    expect(run.stdout).toBe(`Downloaded ${single.torrentPath} to ${target}.\n`)
    expect(await compareContent(single.contentPath, target)).toEqual([])
  })

  it('downloads to exactly -o PATH', async () => {
    const dir = await freshDir(single, 'out-o')
    const target = join(dir, 'renamed.data')
    const run = await bt(['download', '-o', 'renamed.data', single.torrentPath], { cwd: dir })
    expect(run.code, describeRun(run)).toBe(0)
    expect(run.stdout).toBe(`Downloaded ${single.torrentPath} to ${target}.\n`)
    expect(await compareContent(single.contentPath, target)).toEqual([])
  })

  it('downloads with the shorthand bt <file.torrent> -d DIR', async () => {
    const dir = await freshDir(single, 'out-shorthand')
    const run = await bt([single.torrentPath, '-d', dir])
    expect(run.code, describeRun(run)).toBe(0)
    expect(await compareContent(single.contentPath, join(dir, single.name))).toEqual([])
  })

  it('download_piece writes the first, a middle and the short last piece', async () => {
    const dir = await freshDir(single, 'out-pieces')
    const last = single.pieceCount - 1
    for (const index of [0, Math.floor(single.pieceCount / 2), last]) {
      const out = `piece-${index}.bin`
      const run = await bt(['download_piece', '-o', out, single.torrentPath, `${index}`], { cwd: dir })
      expect(run.code, describeRun(run)).toBe(0)
      expect(run.stdout).toBe(`Piece ${index} downloaded to ${out}.\n`)
      const bytes = await readFile(join(dir, out))
      expect(bytes.length).toBe(index === last ? SINGLE_LENGTH - last * 32 * KIB : 32 * KIB)
      expect(bytes.equals(pieceBytes(single, index)), `piece ${index}`).toBe(true)
    }
  })

  it("handshake prints libtorrent's peer id", async () => {
    const run = await bt(['handshake', single.torrentPath, `127.0.0.1:${seeder.port}`], { timeoutMs: 20_000 })
    expect(run.code, describeRun(run)).toBe(0)
    expect(run.stdout).toMatch(/^Peer ID: 2d4c5432[0-9a-f]{32}\n$/)
    const prefix = Buffer.from(seeder.peerIdPrefix, 'latin1').toString('hex')
    expect(run.stdout.startsWith(`Peer ID: ${prefix}`)).toBe(true)
  })

  it('verify: complete content passes, one flipped byte fails its piece', async () => {
    const good = await copyOfSeedDir(single, 'verify-good')
    const ok = await bt(['verify', single.torrentPath, good])
    expect(ok.code, describeRun(ok)).toBe(0)
    expect(ok.stdout).toBe(`${single.pieceCount}/${single.pieceCount} pieces OK (100.0%)\n`)

    const bad = await copyOfSeedDir(single, 'verify-bad')
    const corrupted = 57
    const file = await open(join(bad, single.name), 'r+')
    try {
      const offset = corrupted * single.pieceLength + 12_345
      const byte = Buffer.alloc(1)
      await file.read(byte, 0, 1, offset)
      byte[0] = byte[0]! ^ 0x01
      await file.write(byte, 0, 1, offset)
    } finally {
      await file.close()
    }
    const failed = await bt(['verify', single.torrentPath, join(bad, single.name)])
    expect(failed.code, describeRun(failed)).toBe(1)
    const percent = (((single.pieceCount - 1) / single.pieceCount) * 100).toFixed(1)
    expect(failed.stdout).toBe(
      `${single.pieceCount - 1}/${single.pieceCount} pieces OK (${percent}%)\nBad or missing pieces: ${corrupted}\n`,
    )
    expect(failed.stderr).toMatch(/incomplete/)
  })

  describe('multi-file', () => {
    let multi: TorrentFixture
    let multiSeeder: LibtorrentSeeder

    beforeAll(async () => {
      multi = await makeFixture({
        name: 'tree',
        pieceLength: 32 * KIB,
        announce: [tracker.httpUrl],
        files: [
          { path: 'a.bin', length: 100_000 },
          { path: 'empty.txt', length: 0 },
          { path: 'sub/deeper/c.bin', length: 70_001 },
          { path: 'sub/b.txt', length: 5 },
          { path: 'é/ß.txt', length: 40_000 },
          { path: '日本.bin', length: 300_000 },
        ],
      })
      multiSeeder = await startLibtorrentSeeder({ torrentPath: multi.torrentPath, savePath: multi.seedDir })
      await waitForSeeders(tracker.httpUrl, multi.infoHash, 1)
    })

    afterAll(async () => {
      await multiSeeder?.stop()
      await removeFixture(multi)
    })

    it('downloads nested dirs, a 0-byte file and non-ASCII names, every file identical', async () => {
      const dir = await freshDir(multi, 'out')
      const run = await bt(['download', multi.torrentPath, '-d', dir])
      expect(run.code, describeRun(run)).toBe(0)
      const target = join(dir, multi.name)
      expect(run.stdout).toBe(`Downloaded ${multi.torrentPath} to ${target}.\n`)
      expect(await compareContent(multi.contentPath, target)).toEqual([])
      expect((await stat(join(target, 'empty.txt'))).size).toBe(0)
      expect(await readFile(join(target, 'é', 'ß.txt'))).toEqual(multi.data.get('é/ß.txt'))
    })

    it('--select downloads only the chosen files, and bt verify reports each file', async () => {
      const info = JSON.parse((await bt(['info', '--json', multi.torrentPath])).stdout) as {
        files: { index: number | null; path: string }[]
      }
      const numberOf = (path: string) => info.files.find((file) => file.path === path)!.index!
      const chosen = ['a.bin', '日本.bin']
      const dir = await freshDir(multi, 'select')
      const run = await bt([
        'download',
        multi.torrentPath,
        '-d',
        dir,
        '--json',
        '--select',
        chosen.map(numberOf).join(','),
      ])
      expect(run.code, describeRun(run)).toBe(0)
      const target = join(dir, multi.name)
      for (const path of chosen) expect(await readFile(join(target, path))).toEqual(multi.data.get(path))
      for (const path of ['empty.txt', 'sub/deeper/c.bin', 'sub/b.txt', 'é/ß.txt']) {
        expect(await stat(join(target, path)).catch(() => undefined), path).toBeUndefined()
      }
      const files = run.events.find((event) => (event as { event: string }).event === 'files') as unknown as {
        files: { index: number; path: string; wanted: boolean }[]
      }
      expect(
        files.files
          .filter((file) => file.wanted)
          .map((file) => file.path)
          .sort(),
      ).toEqual([...chosen].sort())
      const last = progressEvents(run.events).at(-1)!
      expect(last.wantedBytes).toBe(400_000)
      expect(last.verifiedBytes).toBe(400_000)

      const verify = await bt(['verify', multi.torrentPath, dir])
      expect(verify.code).toBe(1)
      expect(verify.stdout).toContain('Files:')
      expect(verify.stdout).toMatch(
        new RegExp(`\\n  ${numberOf('sub/deeper/c.bin')}  0/\\d+ pieces  sub/deeper/c\\.bin\\n`),
      )
    })

    it('--select refuses a file number the torrent does not have (usage error)', async () => {
      const run = await bt(['download', multi.torrentPath, '-d', multi.root, '--select', '0,99'])
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(/no file 99/)
    })

    it('-o is refused for a multi-file torrent (usage error)', async () => {
      const run = await bt(['download', multi.torrentPath, '-o', join(multi.root, 'x')])
      expect(run.code).toBe(2)
    })
  })
})

describe('bt handshake on the wire', () => {
  it('sends reserved bytes 00 00 00 00 00 10 00 00 and prints the peer id it gets back', async () => {
    const fixture = await makeFixture({ name: 'wire.bin', length: 50_000, pieceLength: 16 * KIB })
    const peerId = Buffer.from('-XX0001-abcdefghijkl', 'latin1')
    const received: Buffer[] = []
    const sockets = new Set<Socket>()
    const server = createServer((socket) => {
      sockets.add(socket)
      let buffered = Buffer.alloc(0)
      socket.on('data', (chunk: Buffer) => {
        const before = buffered.length
        buffered = Buffer.concat([buffered, chunk])
        if (before < 68 && buffered.length >= 68) {
          received.push(buffered.subarray(0, 68))
          const answer = Buffer.alloc(68)
          answer[0] = 19
          answer.write('BitTorrent protocol', 1, 'latin1')
          buffered.copy(answer, 28, 28, 48)
          peerId.copy(answer, 48)
          socket.write(answer)
        }
      })
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const address = server.address()
      if (address === null || typeof address === 'string') throw new Error('no port')
      const run = await bt(['handshake', fixture.torrentPath, `127.0.0.1:${address.port}`], {
        timeoutMs: 15_000,
      })
      expect(run.code, describeRun(run)).toBe(0)
      expect(run.stdout).toBe(`Peer ID: ${peerId.toString('hex')}\n`)
      expect(received).toHaveLength(1)
      const handshake = received[0]!
      expect(handshake[0]).toBe(19)
      expect(handshake.subarray(1, 20).toString('latin1')).toBe('BitTorrent protocol')
      expect([...handshake.subarray(20, 28)]).toEqual([0, 0, 0, 0, 0, 0x10, 0, 0])
      expect(handshake.subarray(28, 48).toString('hex')).toBe(fixture.infoHash)
      expect(handshake.subarray(48, 56).toString('latin1')).toMatch(/^-BT\d{4}-$/)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
      await removeFixture(fixture)
    }
  })
})

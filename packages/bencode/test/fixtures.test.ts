// Real torrents made by other tools (copied from the shared fixtures): byte-exact round trips, and
// info hashes from spanOf that match what libtorrent 2.0.8 computed for the same files.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  BencodeDecodeError,
  type BencodeDict,
  type BencodeValue,
  bytesToKey,
  bytesToUtf8,
  bytesToUtf8Strict,
  decode,
  encode,
  keyToUtf8,
  spanOf,
  toJson,
  utf8ToBytes,
} from '../src/index.js'

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)))
const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex')
const dict = (value: BencodeValue | undefined) => value as BencodeDict

/** v1 info hashes as libtorrent reports them (the fixtures README); null for a v2-only torrent. */
const TORRENTS: [name: string, infoHash: string | null][] = [
  ['archlinux-2011.08.19-netinstall-i686.iso.torrent', '500f29c0c537f5e41c6af676b7633de9d080d237'],
  ['debian-10.8.0-amd64-netinst.iso.torrent', '4090c3c2a394a49974dfbbf2ce7ad0db3cdeddd7'],
  ['sintel.torrent', '08ada5a7a6183aae1e09d831df6748d566095a10'],
  ['issue_65a.torrent', '4fe050208d675e5cd967d41348a31ab11b316806'],
  ['flat-url-list.torrent', '9da24e606e4ed9c7b91c1772fb5bf98f82bd9687'],
  ['trackerless.torrent', '1dc8b6dbbb81c58b71220e20908245f8f565433f'],
  ['wt-alice.torrent', '722fe65b2aa26d14f35b4ad627d20236e481d924'],
  // Valid bencode; libtorrent rejects it for a missing `name`, which is not this package's concern.
  ['wt-corrupt.torrent', null],
  ['bittorrent-v2-test.torrent', null],
]

describe('real torrents', () => {
  it.each(TORRENTS)('%s is canonical: strict decode → encode gives it back byte for byte', (name) => {
    const bytes = fixture(name)
    const value = decode(bytes)
    expect(Buffer.compare(encode(value), bytes)).toBe(0)
  })

  it.each(TORRENTS.filter(([, hash]) => hash !== null))(
    '%s: SHA-1 of spanOf(info) is the info hash',
    (name, hash) => {
      const bytes = fixture(name)
      const { start, end } = spanOf(bytes, ['info'])
      expect(sha1(bytes.subarray(start, end))).toBe(hash)
    },
  )

  it('reads the fields of a real torrent', () => {
    const torrent = dict(decode(fixture('sintel.torrent')))
    const info = dict(torrent.get('info'))
    expect(bytesToUtf8(info.get('name') as Uint8Array)).toBe('Sintel')
    expect(info.get('piece length')).toBe(131072)
    expect((info.get('pieces') as Uint8Array).length).toBe(987 * 20)
    const files = info.get('files') as BencodeDict[]
    expect(files.length).toBe(11)
    expect(files.reduce((sum, file) => sum + (file.get('length') as number), 0)).toBe(129302391)
  })

  it('keeps non-ASCII names as bytes, readable as UTF-8', () => {
    const info = dict(dict(decode(fixture('issue_65a.torrent'))).get('info'))
    const paths = (info.get('files') as BencodeDict[]).map((file) =>
      (file.get('path') as Uint8Array[]).map((part) => bytesToUtf8Strict(part)).join('/'),
    )
    expect(paths).toContain('SIS001影视联盟.gif')
    expect(toJson(info.get('name')!)).toBe('"olo@SIS001@OBA-237"')
  })

  it('keys BitTorrent v2 piece layers by raw 32-byte hashes that round-trip as binary strings', () => {
    const bytes = fixture('bittorrent-v2-test.torrent')
    const torrent = dict(decode(bytes))
    const layers = dict(torrent.get('piece layers'))
    expect(layers.size).toBeGreaterThan(0)
    const roots = new Set<string>()
    const walk = (tree: BencodeDict) => {
      for (const [name, node] of tree) {
        const file = dict(dict(node).get(''))
        if (name !== '' && file !== undefined && file.get('pieces root') !== undefined) {
          roots.add(bytesToKey(file.get('pieces root') as Uint8Array))
        } else {
          walk(dict(node))
        }
      }
    }
    walk(dict(dict(torrent.get('info')).get('file tree')))
    for (const key of layers.keys()) {
      expect(key.length).toBe(32)
      expect(roots.has(key)).toBe(true)
    }
    expect(keyToUtf8('pieces root')).toBe('pieces root')
  })
})

/**
 * Writes bencode without sorting dictionary keys: how tools that produce non-canonical torrents
 * write them (libtorrent's own test data has an `info` dict with `name` before `length`).
 */
function writeInOrder(value: BencodeValue): Uint8Array {
  const parts: Uint8Array[] = []
  const visit = (v: BencodeValue) => {
    if (v instanceof Map) {
      parts.push(utf8ToBytes('d'))
      for (const [key, item] of v) {
        parts.push(encode(new Uint8Array([...key].map((c) => c.charCodeAt(0)))))
        visit(item)
      }
      parts.push(utf8ToBytes('e'))
    } else if (Array.isArray(v)) {
      parts.push(utf8ToBytes('l'))
      v.forEach(visit)
      parts.push(utf8ToBytes('e'))
    } else {
      parts.push(encode(v))
    }
  }
  visit(value)
  return Buffer.concat(parts)
}

const reversed = (map: BencodeDict): BencodeDict => new Map([...map].reverse())

describe('non-canonical torrents (all shared fixtures are canonical, so these are derived from them)', () => {
  const original = fixture('wt-alice.torrent')
  const torrent = dict(decode(original))
  // Outer keys reversed, info keys reversed, a leading zero in `creation date`, a trailing newline.
  const quirky = (() => {
    const outer = reversed(torrent)
    outer.set('info', reversed(dict(torrent.get('info'))))
    const bytes = writeInOrder(outer)
    const date = spanOf(bytes, ['creation date'], { strict: false })
    return Buffer.concat([
      bytes.subarray(0, date.start + 1),
      utf8ToBytes('0'),
      bytes.subarray(date.start + 1),
      utf8ToBytes('\n'),
    ])
  })()

  it('are rejected by strict decode at the first offending byte', () => {
    const error = (() => {
      try {
        decode(quirky)
      } catch (e) {
        return e as BencodeDecodeError
      }
    })()
    expect(error).toBeInstanceOf(BencodeDecodeError)
    expect(error!.code).toBe('UNSORTED_KEYS')
    expect(bytesToUtf8(quirky.subarray(error!.offset, error!.offset + 6))).toMatch(/^\d+:/)
  })

  it('decode leniently to the same value, and re-encode to the canonical original', () => {
    const value = decode(quirky, { strict: false })
    expect(toJson(value)).not.toBe(toJson(torrent)) // keys keep their input order
    expect(Buffer.compare(encode(value), original)).toBe(0)
  })

  it('hash by their own info bytes: spanOf, not a re-encoding', () => {
    const { start, end } = spanOf(quirky, ['info'], { strict: false })
    const infoBytes = quirky.subarray(start, end)
    const reencoded = encode(decode(infoBytes, { strict: false }))
    expect(sha1(reencoded)).toBe('722fe65b2aa26d14f35b4ad627d20236e481d924')
    expect(sha1(infoBytes)).not.toBe(sha1(reencoded))
    // libtorrent 2.0.8 (`lt.torrent_info(path).info_hashes().v1`) gives this for these very bytes.
    expect(sha1(infoBytes)).toBe('baeb47e88cbe0d67b00748d4cc9807f834422b1a')
    expect(() => spanOf(quirky, ['info'])).toThrow(BencodeDecodeError)
  })
})

// Untrusted input never crashes: mutated real torrents and random magnet links either parse into
// something consistent and safe, or fail with one of the package's typed errors.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Metainfo, parseMagnet, parseTorrent, sanitizePathComponent } from '../src/index.js'

// Bencode syntax errors reach callers wrapped in `InvalidTorrentError`, so they are not on this list.
const TYPED_ERRORS = new Set([
  'InvalidTorrentError',
  'UnsafePathError',
  'UnsupportedTorrentError',
  'InvalidMagnetError',
])

const fixtures = [
  'wt-numbers.torrent',
  'wt-lots-of-numbers.torrent',
  'wt-folder.torrent',
  'trackerless.torrent',
  'wt-alice.torrent',
  'sintel.torrent',
  'bittorrent-v2-hybrid-test.torrent',
].map((name) => new Uint8Array(readFileSync(new URL(`./fixtures/torrents/${name}`, import.meta.url))))

/** Bytes that change bencode's structure when they land in the right place. */
const STRUCTURAL = [...'dlei:0123456789-'].map((char) => char.charCodeAt(0))

type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    byte: fc.oneof(fc.constantFrom(...STRUCTURAL), fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
)

function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes: Uint8Array = input.slice()
  for (const change of mutations) {
    const at = bytes.length === 0 ? 0 : change.at % bytes.length
    if (change.kind === 'set') {
      if (bytes.length > 0) bytes[at] = change.byte
    } else if (change.kind === 'delete') {
      bytes = concat(bytes.subarray(0, at), bytes.subarray(at + change.length))
    } else if (change.kind === 'insert') {
      bytes = concat(bytes.subarray(0, at), change.bytes, bytes.subarray(at))
    } else {
      bytes = bytes.slice(0, at)
    }
  }
  return bytes
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

function expectConsistent(metainfo: Metainfo): void {
  expect(metainfo.infoHash).toMatch(/^[0-9a-f]{40}$/)
  expect(metainfo.pieces.length).toBe(metainfo.pieceCount * 20)
  expect(metainfo.layout.pieceCount).toBe(metainfo.pieceCount)
  expect(metainfo.pieceCount).toBe(Math.ceil(metainfo.length / metainfo.pieceLength))
  expect(sanitizePathComponent(metainfo.name)).toBe(metainfo.name)
  const seen = new Set<string>()
  for (const file of metainfo.files) {
    for (const component of file.path) expect(sanitizePathComponent(component)).toBe(component)
    if (file.padding) continue
    const key = file.path.join('/').toLowerCase()
    expect(seen.has(key)).toBe(false)
    seen.add(key)
  }
}

function expectTypedError(error: unknown): void {
  expect(error).toBeInstanceOf(Error)
  expect(TYPED_ERRORS).toContain((error as Error).name)
}

describe('fuzzing', () => {
  it('mutated torrents parse consistently or fail with a typed error', () => {
    let parsed = 0
    let rejected = 0
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: fixtures.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (which, mutations) => {
          const bytes = mutate(fixtures[which]!, mutations)
          let metainfo: Metainfo
          try {
            metainfo = parseTorrent(bytes)
          } catch (error) {
            expectTypedError(error)
            rejected++
            return
          }
          parsed++
          expectConsistent(metainfo)
        },
      ),
      { numRuns: 4000 },
    )
    // Both outcomes must be exercised, or the mutations are not probing anything.
    expect(parsed).toBeGreaterThan(50)
    expect(rejected).toBeGreaterThan(50)
  })

  it('random magnet links parse or fail with a typed error', () => {
    const param = fc.tuple(
      fc.constantFrom('xt', 'dn', 'tr', 'tr.1', 'ws', 'x.pe', 'XT', 'xl', ''),
      fc.oneof(
        fc.string(),
        fc.constantFrom('urn:btih:', 'urn:btmh:', '%', '%zz', '%C3', '+'),
        fc
          .string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 40, maxLength: 40 })
          .map((hex) => `urn:btih:${hex}`),
      ),
    )
    fc.assert(
      fc.property(fc.array(param, { maxLength: 8 }), fc.boolean(), (params, prefixed) => {
        const uri = `${prefixed ? 'magnet:?' : ''}${params.map(([key, value]) => `${key}=${value}`).join('&')}`
        try {
          const magnet = parseMagnet(uri)
          expect(magnet.infoHash).toMatch(/^[0-9a-f]{40}$/)
        } catch (error) {
          expectTypedError(error)
        }
      }),
      { numRuns: 1000 },
    )
  })
})

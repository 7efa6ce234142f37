import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { foldName, UniquePaths } from './unique-paths.js'

function claimAll(paths: readonly string[][]): string[][] {
  const unique = new UniquePaths()
  return paths.map((path) => unique.claim([...path]))
}

describe('UniquePaths', () => {
  it('keeps paths that do not collide as they are', () => {
    expect(claimAll([['a.txt'], ['dir', 'a.txt'], ['dir', 'b.txt']])).toEqual([
      ['a.txt'],
      ['dir', 'a.txt'],
      ['dir', 'b.txt'],
    ])
  })

  it('renames exact and case-insensitive duplicates in torrent order', () => {
    expect(claimAll([['a.txt'], ['A.TXT'], ['a.txt']])).toEqual([['a.txt'], ['A (1).TXT'], ['a (2).txt']])
  })

  it('treats Unicode normalisation forms as one name', () => {
    expect(claimAll([['caf\u00e9'], ['cafe\u0301']])).toEqual([['caf\u00e9'], ['cafe\u0301 (1)']])
  })

  it('keeps a file and a directory of the same name apart, in either order', () => {
    expect(claimAll([['a'], ['a', 'b']])).toEqual([['a'], ['a (1)', 'b']])
    expect(claimAll([['a', 'b'], ['A']])).toEqual([['a', 'b'], ['A (1)']])
  })

  it('sends later files of a renamed directory to the same place', () => {
    expect(
      claimAll([
        ['Dir', 'x'],
        ['dir', 'y'],
        ['Dir', 'z'],
        ['dir', 'w'],
      ]),
    ).toEqual([
      ['Dir', 'x'],
      ['dir (1)', 'y'],
      ['Dir', 'z'],
      ['dir (1)', 'w'],
    ])
  })

  it('skips numbered names the torrent already uses', () => {
    expect(claimAll([['a.txt'], ['a (1).txt'], ['a.txt'], ['a.txt']])).toEqual([
      ['a.txt'],
      ['a (1).txt'],
      ['a (2).txt'],
      ['a (3).txt'],
    ])
  })

  it('never maps two paths to one file or a file over a directory (property)', () => {
    const component = fc.constantFrom('a', 'A', 'b', 'a (1)', 'caf\u00e9', 'cafe\u0301')
    const paths = fc.array(fc.array(component, { minLength: 1, maxLength: 3 }), { maxLength: 40 })
    fc.assert(
      fc.property(paths, (input) => {
        const claimed = claimAll(input)
        expect(claimAll(input)).toEqual(claimed)
        const files = new Set<string>()
        const directories = new Set<string>()
        claimed.forEach((path, index) => {
          expect(path).toHaveLength(input[index]!.length)
          const folded = path.map(foldName)
          const key = folded.join('/')
          expect(files.has(key) || directories.has(key)).toBe(false)
          files.add(key)
          for (let depth = 1; depth < folded.length; depth++) {
            const prefix = folded.slice(0, depth).join('/')
            expect(files.has(prefix)).toBe(false)
            directories.add(prefix)
          }
        })
      }),
      { numRuns: 500 },
    )
  })

  it('stays fast when a hostile torrent repeats one name many times', () => {
    const paths = Array.from({ length: 20_000 }, (_, index) => [index % 2 === 0 ? 'x.bin' : 'X.BIN'])
    const claimed = claimAll(paths)
    expect(new Set(claimed.map((path) => foldName(path[0]!))).size).toBe(20_000)
    expect(claimed[19_999]).toEqual(['X (19999).BIN'])
  })
})

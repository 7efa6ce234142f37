import { createFileLayout, type Metainfo } from '@bt/metainfo'
import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import { UsageError } from './errors.js'
import { numberedFiles, parseFileList, selectedPriorities } from './file-selection.js'

// a, padding, b, c: people see a=0, b=1, c=2.
const lengths = [100, 28, 200, 300]
const meta = {
  files: lengths.map((length, index) => ({
    path: [['a'], ['.pad', '28'], ['b'], ['c']][index]!,
    originalPath: [],
    length,
    offset: lengths.slice(0, index).reduce((sum, value) => sum + value, 0),
    padding: index === 1,
  })),
  layout: createFileLayout(lengths, 128),
} as unknown as Metainfo

describe('numberedFiles', () => {
  it('numbers from 0 in torrent order, padding left out', () => {
    expect(numberedFiles(meta).map(({ number, index }) => [number, index])).toEqual([
      [0, 0],
      [1, 2],
      [2, 3],
    ])
  })
})

describe('parseFileList', () => {
  it('reads numbers and ranges, sorted, each once', () => {
    expect(parseFileList('0,2-3')).toEqual([0, 2, 3])
    expect(parseFileList(' 3 , 1-2,2 ')).toEqual([1, 2, 3])
  })

  it.each(['', 'a', '1-', '-1', '3-1', '1,,2', '1.5', '0x1'])('rejects %j', (text) => {
    expect(() => parseFileList(text)).toThrow(InvalidArgumentError)
  })
})

describe('selectedPriorities', () => {
  it('select wants only the listed files; exclude all but them; padding is never wanted', () => {
    expect(selectedPriorities(meta, {})).toBeUndefined()
    expect(selectedPriorities(meta, { select: [1] })).toEqual(['skip', 'skip', 'normal', 'skip'])
    expect(selectedPriorities(meta, { exclude: [0] })).toEqual(['skip', 'skip', 'normal', 'normal'])
    expect(selectedPriorities(meta, { select: [0, 2], exclude: [2] })).toEqual([
      'normal',
      'skip',
      'skip',
      'skip',
    ])
  })

  it('refuses a number past the last file and an empty selection', () => {
    expect(() => selectedPriorities(meta, { select: [3] })).toThrow(UsageError)
    expect(() => selectedPriorities(meta, { exclude: [0, 1, 2] })).toThrow(/no file to download/)
  })
})

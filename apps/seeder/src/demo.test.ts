import { describe, expect, it } from 'vitest'
import { formatSize, parseSize } from './demo.js'
import { DemoError } from './errors.js'

describe('parseSize', () => {
  it('reads MiB by default and the usual units', () => {
    expect(parseSize('256')).toBe(256 * 1024 ** 2)
    expect(parseSize('64MiB')).toBe(64 * 1024 ** 2)
    expect(parseSize('64m')).toBe(64 * 1024 ** 2)
    expect(parseSize('512K')).toBe(512 * 1024)
    expect(parseSize('1GiB')).toBe(1024 ** 3)
    expect(parseSize('1000B')).toBe(1000)
    expect(parseSize('0.5')).toBe(512 * 1024)
  })

  it('refuses what is not a positive size', () => {
    for (const text of ['', 'abc', '-1', '0', '12TB', '1e3']) expect(() => parseSize(text)).toThrow(DemoError)
  })
})

describe('formatSize', () => {
  it('picks the largest binary unit', () => {
    expect(formatSize(256 * 1024 ** 2)).toBe('256 MiB')
    expect(formatSize(1536)).toBe('1.5 KiB')
    expect(formatSize(12)).toBe('12 B')
  })
})

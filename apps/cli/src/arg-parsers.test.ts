import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import {
  collectTier,
  collectUrl,
  parseDuration,
  parseHostPort,
  parseRatio,
  parseSize,
} from './arg-parsers.js'

describe('parseSize', () => {
  it.each([
    ['262144', 262144],
    ['16k', 16384],
    ['256K', 262144],
    ['256KiB', 262144],
    ['256kb', 262144],
    ['1M', 1048576],
    ['4 MiB', 4194304],
    ['1g', 1073741824],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes)
  })

  it.each(['', 'abc', '1.5M', '-1', '1T', 'M', '99999999999999999999'])('rejects %j', (text) => {
    expect(() => parseSize(text)).toThrow(InvalidArgumentError)
  })
})

describe('collectTier', () => {
  it('makes one tier per option and splits commas inside it', () => {
    const first = collectTier('http://a/announce, http://b/announce')
    expect(collectTier('udp://c:1', first)).toEqual([
      ['http://a/announce', 'http://b/announce'],
      ['udp://c:1'],
    ])
  })

  it.each([',', 'not a url', 'http://a/announce,nope'])('rejects %j', (text) => {
    expect(() => collectTier(text)).toThrow(InvalidArgumentError)
  })
})

describe('collectUrl', () => {
  it('keeps command-line order', () => {
    expect(collectUrl('https://b/', collectUrl('https://a/'))).toEqual(['https://a/', 'https://b/'])
  })

  it('rejects a non-URL', () => {
    expect(() => collectUrl('mirror')).toThrow(InvalidArgumentError)
  })
})

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['45s', 45],
    ['30m', 1800],
    ['1h30m', 5400],
    ['2d', 172_800],
    ['1.5', 1.5],
  ])('%s is %d s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds)
  })

  it.each(['', '0', '0s', 'm', '10x', '1h 30m', '-5m', 'h1'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidArgumentError)
  })
})

describe('parseRatio', () => {
  it('takes 0 and fractions, not negatives or words', () => {
    expect(parseRatio('0')).toBe(0)
    expect(parseRatio('2.5')).toBe(2.5)
    for (const text of ['', '-1', 'one', 'Infinity'])
      expect(() => parseRatio(text)).toThrow(InvalidArgumentError)
  })
})

describe('parseHostPort', () => {
  it('takes names, IPv4 and bracketed IPv6 with a port', () => {
    for (const text of ['router.example:6881', '127.0.0.2:1', '[::1]:6881'])
      expect(parseHostPort(text)).toBe(text)
  })

  it.each(['foo', 'foo:', ':6881', 'a:0', 'a:65536', '::1:6881', 'a b:1'])('rejects %j', (text) => {
    expect(() => parseHostPort(text)).toThrow(InvalidArgumentError)
  })
})

import { describe, expect, it } from 'vitest'
import {
  BencodeDecodeError,
  type BencodeDecodeErrorCode,
  type DecodeOptions,
  decode,
  type SpanPathStep,
  spanOf,
  utf8Key,
  utf8ToBytes,
} from './index.js'

const b = (text: string) => utf8ToBytes(text)
const slice = (bytes: Uint8Array, path: SpanPathStep[], options?: DecodeOptions) => {
  const { start, end } = spanOf(bytes, path, options)
  return new TextDecoder().decode(bytes.subarray(start, end))
}

function spanError(input: string, path: SpanPathStep[], options?: DecodeOptions): BencodeDecodeError {
  try {
    spanOf(b(input), path, options)
  } catch (error) {
    expect(error).toBeInstanceOf(BencodeDecodeError)
    return error as BencodeDecodeError
  }
  throw new Error('spanOf accepted the input')
}

describe('spanOf', () => {
  const torrent = b('d8:announce3:url4:infod5:filesld6:lengthi5e4:pathl1:a1:beee4:name1:xe5:nodesl1:nee')

  it('finds the exact bytes of a nested value', () => {
    expect(slice(torrent, ['info'])).toBe('d5:filesld6:lengthi5e4:pathl1:a1:beee4:name1:xe')
    expect(slice(torrent, ['info', 'files', 0, 'path', 1])).toBe('1:b')
    expect(slice(torrent, ['info', 'files', 0, 'length'])).toBe('i5e')
    expect(slice(torrent, ['nodes'])).toBe('l1:ne')
    expect(slice(torrent, [])).toBe(new TextDecoder().decode(torrent))
  })

  it('gives a span that decodes to the value decode finds at the path', () => {
    const span = spanOf(torrent, ['info', 'files'])
    const whole = decode(torrent) as Map<string, Map<string, unknown>>
    expect(decode(torrent.subarray(span.start, span.end))).toEqual(whole.get('info')!.get('files'))
  })

  it('matches keys as binary strings', () => {
    const bytes = b('d6:naïvei1ee')
    expect(slice(bytes, [utf8Key('naïve')])).toBe('i1e')
    expect(spanError('d6:naïvei1ee', ['naïve']).code).toBe('NOT_FOUND')
  })

  it.each<[string, SpanPathStep[], string]>([
    ['d1:ai1ee', ['b'], 'key "b": not in dictionary'],
    ['d1:ai1ee', [0], 'index 0: not a list'],
    ['li1ei2ee', [2], 'index 2: list is shorter'],
    ['li1ei2ee', [-1], 'index -1: list is shorter'],
    ['li1ei2ee', ['a'], 'key "a": not a dictionary'],
    ['d1:ai1ee', ['a', 'b'], 'key "b": not a dictionary'],
  ])('in %s, path %j is NOT_FOUND (%s)', (input, path, message) => {
    const error = spanError(input, path)
    expect(error.code).toBe('NOT_FOUND')
    expect(error.message).toContain(message)
  })

  it('checks the whole input as decode would, before and after the span', () => {
    const cases: [string, BencodeDecodeErrorCode][] = [
      ['d1:ai1e1:bi01ee', 'LEADING_ZERO'],
      ['d4:infodei1x', 'UNEXPECTED_BYTE'],
      ['d4:infode1:a', 'UNSORTED_KEYS'],
      ['d4:infodee\n', 'TRAILING_BYTES'],
      ['d4:infode', 'UNEXPECTED_END'],
      ['d4:infodi1ei2eee', 'UNEXPECTED_BYTE'],
      ['d4:infod1:ai-0eee', 'NEGATIVE_ZERO'],
      ['d1:zi1e4:infodee', 'UNSORTED_KEYS'],
    ]
    for (const [input, code] of cases) {
      const decodeCode = (() => {
        try {
          decode(b(input))
        } catch (error) {
          return (error as BencodeDecodeError).code
        }
      })()
      expect(decodeCode).toBe(code)
      expect(spanError(input, ['info']).code).toBe(code)
    }
  })

  it('reports malformed input rather than NOT_FOUND when both apply', () => {
    expect(spanError('d1:ai1e1:bi1x', ['missing']).code).toBe('INVALID_INTEGER')
  })

  it('follows the lenient rules when asked, resolving duplicate keys to the first', () => {
    const input = 'd4:infod1:xi1ee4:infod1:xi2ee1:ai01ee\n'
    expect(spanError(input, ['info']).code).toBe('DUPLICATE_KEY')
    expect(slice(b(input), ['info'], { strict: false })).toBe('d1:xi1ee')
    expect(slice(b('d1:bi1e1:ai2ee'), ['a'], { strict: false })).toBe('i2e')
  })

  it('honours maxDepth and never overflows the stack', () => {
    const deep = b(`${'l'.repeat(300)}${'e'.repeat(300)}`)
    expect(spanError(new TextDecoder().decode(deep), [0]).code).toBe('DEPTH_EXCEEDED')
    expect(slice(deep, [0], { maxDepth: 300 })).toBe(`${'l'.repeat(299)}${'e'.repeat(299)}`)
    const error = spanError('l'.repeat(1_000_000), [0, 0], { maxDepth: 10_000_000 })
    expect(error.code).toBe('DEPTH_EXCEEDED')
  })
})

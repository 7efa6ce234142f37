import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { UnsafePathError } from './errors.js'
import { isReservedName, numberedName, sanitizePath, sanitizePathComponent, utf8Length } from './safe-path.js'

const utf8 = new TextEncoder()

describe('sanitizePathComponent', () => {
  it.each([
    ['plain.txt', 'plain.txt'],
    ['.hidden', '.hidden'],
    ['', '_'],
    ['.', '_'],
    ['..', '_'],
    ['...', '_'],
    ['. .', '_'],
    ['a/b', 'a_b'],
    ['../../etc/passwd', '.._.._etc_passwd'],
    ['a\\b', 'a_b'],
    ['C:\\Windows', 'C__Windows'],
    ['nul\0byte', 'nul_byte'],
    ['tab\there', 'tab_here'],
    ['what?<>|*"', 'what______'],
    ['file. . ', 'file'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['Aux.tar.gz', '_Aux.tar.gz'],
    ['NUL.', '_NUL'],
    ['prn ', '_prn'],
    ['COM1', '_COM1'],
    ['com9.log', '_com9.log'],
    ['LPT1 .txt', '_LPT1 .txt'],
    ['lpt¹', '_lpt¹'],
    ['CONIN$', '_CONIN$'],
    ['console', 'console'],
    ['CONx.txt', 'CONx.txt'],
    ['COM10', 'COM10'],
    ['my.con', 'my.con'],
    ['ünïcødé 文件.mkv', 'ünïcødé 文件.mkv'],
    ['lone\uD800surrogate', 'lone\uFFFDsurrogate'],
    ['pair 😀', 'pair 😀'],
  ])('%j becomes %j', (input, expected) => {
    expect(sanitizePathComponent(input)).toBe(expected)
  })

  it('shortens long components to 255 UTF-8 bytes, keeping the extension', () => {
    const ascii = sanitizePathComponent(`${'a'.repeat(300)}.txt`)
    expect(ascii).toBe(`${'a'.repeat(251)}.txt`)

    const accented = sanitizePathComponent(`${'é'.repeat(200)}.mkv`)
    expect(accented.endsWith('.mkv')).toBe(true)
    expect(utf8.encode(accented).length).toBeLessThanOrEqual(255)
    expect(accented).toBe(`${'é'.repeat(125)}.mkv`)

    const emoji = sanitizePathComponent('😀'.repeat(100))
    expect(emoji).toBe('😀'.repeat(63))
  })

  it('drops an over-long extension rather than keep it whole', () => {
    const name = sanitizePathComponent(`a.${'b'.repeat(300)}`)
    expect(name).toBe(`a.${'b'.repeat(253)}`)
  })

  it('strips what truncation leaves at the end and never yields a device name', () => {
    expect(sanitizePathComponent(`${' '.repeat(300)}x`)).toBe('_')
    expect(sanitizePathComponent(`CON${' '.repeat(300)}x`)).toBe('_CON')
    const reservedWithLongExtension = sanitizePathComponent(`CON.${'x'.repeat(251)}`)
    expect(reservedWithLongExtension.startsWith('_CON.')).toBe(true)
    expect(utf8Length(reservedWithLongExtension)).toBe(255)
  })

  it('always gives a safe, stable name (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 400 }),
          fc.string({
            unit: fc.constantFrom('.', ' ', '/', '\\', 'a', 'é', '😀', 'C', 'O', 'N'),
            maxLength: 300,
          }),
          fc.constantFrom('CON', 'nul.txt', 'com1 .x', 'LPT9.', '..', '.'),
        ),
        (input) => {
          const name = sanitizePathComponent(input)
          expect(name).not.toBe('')
          expect(name === '.' || name === '..').toBe(false)
          expect([...name].some((char) => char < ' ' || '/\\<>:"|?*'.includes(char))).toBe(false)
          expect(/[. ]$/.test(name)).toBe(false)
          expect(isReservedName(name)).toBe(false)
          expect(utf8.encode(name).length).toBeLessThanOrEqual(255)
          expect(utf8Length(name)).toBe(utf8.encode(name).length)
          expect(sanitizePathComponent(name)).toBe(name)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('sanitizePath', () => {
  it('drops empty, . and .. components', () => {
    expect(sanitizePath(['..', '..', 'etc', 'passwd'])).toEqual(['etc', 'passwd'])
    expect(sanitizePath(['a', '', '.', 'b', '..'])).toEqual(['a', 'b'])
    expect(sanitizePath(['/etc/passwd'])).toEqual(['_etc_passwd'])
  })

  it('refuses a path with nothing left', () => {
    const error = (() => {
      try {
        sanitizePath(['..', '.', ''], 7)
      } catch (err) {
        return err
      }
    })()
    expect(error).toBeInstanceOf(UnsafePathError)
    expect((error as UnsafePathError).name).toBe('UnsafePathError')
    expect((error as UnsafePathError).fileIndex).toBe(7)
    expect((error as UnsafePathError).path).toEqual(['..', '.', ''])
    expect((error as UnsafePathError).message).toMatch(/^metainfo: /)
    expect(() => sanitizePath([])).toThrow(UnsafePathError)
  })
})

describe('numberedName', () => {
  it('numbers before the extension and stays within the limit', () => {
    expect(numberedName('a.txt', 1)).toBe('a (1).txt')
    expect(numberedName('.bashrc', 2)).toBe('.bashrc (2)')
    const long = numberedName(`${'a'.repeat(251)}.txt`, 12)
    expect(long).toBe(`${'a'.repeat(246)} (12).txt`)
    expect(utf8Length(long)).toBe(255)
  })
})

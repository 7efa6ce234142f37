// Turns path components from an untrusted torrent into names that are safe to create on Linux, macOS
// and Windows alike (DESIGN §6). The result does not depend on the platform we run on, so a torrent
// maps to the same files everywhere.
import { UnsafePathError } from './errors.js'

/** Longest component, in UTF-8 bytes: the limit of ext4, APFS and (in UTF-16 units) NTFS. */
export const MAX_COMPONENT_BYTES = 255

/** An extension longer than this (dot included) is not worth keeping when a name must be shortened. */
const MAX_KEPT_EXTENSION_BYTES = 32

/**
 * DOS device names: Windows opens the device instead of a file for them, with any extension and
 * ignoring trailing spaces (`con.txt`, `NUL .tar.gz`). The superscript digits are devices too.
 */
const RESERVED_BASE = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])$/i

/** 1 for the printable ASCII characters no component may contain. */
const UNSAFE_ASCII = new Uint8Array(128)
for (const char of '/\\<>:"|?*') UNSAFE_ASCII[char.charCodeAt(0)] = 1

/**
 * Makes one path component safe, never returning `''`, `.` or `..`:
 * - NUL, control characters, `/`, `\` and the characters Windows forbids (`<>:"|?*`; `:` would open an
 *   NTFS alternate data stream) become `_`;
 * - trailing dots and spaces, which Windows silently strips, are removed; nothing left gives `_`;
 * - Windows device names (`CON`, `nul.txt`, `COM1`, `LPT9.log`, …) get a `_` prefix;
 * - components over 255 UTF-8 bytes are shortened, keeping a short extension.
 */
export function sanitizePathComponent(component: string): string {
  if (isPlainName(component)) return component
  let name = fitComponent(replaceUnsafeCharacters(component))
  if (name === '') return '_'
  if (isReservedName(name)) name = fitComponent(`_${name}`)
  return name
}

/**
 * Sanitises a path given as components: empty, `.` and `..` components are dropped (they would
 * address a parent or the same directory), the others go through `sanitizePathComponent`.
 * Throws `UnsafePathError` when nothing is left.
 */
export function sanitizePath(components: readonly string[], fileIndex?: number): string[] {
  const safe: string[] = []
  for (const component of components) {
    if (component === '' || component === '.' || component === '..') continue
    safe.push(sanitizePathComponent(component))
  }
  if (safe.length === 0) {
    throw new UnsafePathError(components, 'no usable path component', fileIndex)
  }
  return safe
}

/**
 * The common case, checked in one pass: printable ASCII without unsafe characters, short enough,
 * not ending in a dot or space, not starting like a device name. Such a name needs no change.
 */
function isPlainName(name: string): boolean {
  const length = name.length
  if (length === 0 || length > MAX_COMPONENT_BYTES) return false
  for (let i = 0; i < length; i++) {
    const code = name.charCodeAt(i)
    if (code < 0x20 || code > 0x7e || UNSAFE_ASCII[code] === 1) return false
  }
  const last = name.charCodeAt(length - 1)
  if (last === 0x2e || last === 0x20) return false
  // Device names start with c, p, a, n or l; anything else cannot be one.
  const first = name.charCodeAt(0) | 0x20
  return (
    !(first === 0x63 || first === 0x70 || first === 0x61 || first === 0x6e || first === 0x6c) ||
    !isReservedName(name)
  )
}

/** Whether Windows would treat `name` as a device. */
export function isReservedName(name: string): boolean {
  const dot = name.indexOf('.')
  const base = (dot === -1 ? name : name.slice(0, dot)).replace(/ +$/, '')
  return RESERVED_BASE.test(base)
}

/**
 * The `n`th alternative spelling of a sanitised name, `name (n).ext`, still within the length limit.
 * Used to keep files that would collide apart.
 */
export function numberedName(name: string, n: number): string {
  const [base, extension] = splitExtension(name)
  const suffix = ` (${n})${extension}`
  return `${truncateUtf8(base, MAX_COMPONENT_BYTES - utf8Length(suffix))}${suffix}`
}

/**
 * Also replaces lone surrogates with U+FFFD, as writing the name to disk would: otherwise two names
 * differing only there would look distinct here and land on one file.
 */
function replaceUnsafeCharacters(text: string): string {
  let out = ''
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    let replacement: string | undefined
    if (code < 0x20 || UNSAFE_ASCII[code] === 1) replacement = '_'
    else if (code >= 0xd800 && code <= 0xdfff) {
      if (code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) i++
      else replacement = '\uFFFD'
    }
    if (replacement !== undefined) {
      out += text.slice(start, i) + replacement
      start = i + 1
    }
  }
  return start === 0 ? text : out + text.slice(start)
}

/** Strips trailing dots and spaces and shortens to the byte limit, keeping a short extension. */
function fitComponent(name: string): string {
  let fitted = stripTrailingDotsAndSpaces(name)
  if (utf8Length(fitted) <= MAX_COMPONENT_BYTES) return fitted
  const [base, extension] = splitExtension(fitted)
  fitted =
    extension !== '' && utf8Length(extension) <= MAX_KEPT_EXTENSION_BYTES
      ? truncateUtf8(base, MAX_COMPONENT_BYTES - utf8Length(extension)) + extension
      : truncateUtf8(fitted, MAX_COMPONENT_BYTES)
  return stripTrailingDotsAndSpaces(fitted)
}

function stripTrailingDotsAndSpaces(name: string): string {
  let end = name.length
  while (end > 0 && (name[end - 1] === '.' || name[end - 1] === ' ')) end--
  return end === name.length ? name : name.slice(0, end)
}

/** `['archive.tar', '.gz']`; a leading dot (`.bashrc`) is not an extension. */
function splitExtension(name: string): [base: string, extension: string] {
  const dot = name.lastIndexOf('.')
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, '']
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, cut between code points. */
function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0
  let end = 0
  for (const char of text) {
    const size = utf8CodePointLength(char.codePointAt(0)!)
    if (bytes + size > maxBytes) break
    bytes += size
    end += char.length
  }
  return text.slice(0, end)
}

export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4
      i++
    } else bytes += 3 // BMP, or a lone surrogate (encoded as U+FFFD, 3 bytes)
  }
  return bytes
}

function utf8CodePointLength(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

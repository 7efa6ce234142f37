// Writing results: stdout carries the result (lines or one JSON document), stderr everything else.

/** Where a command writes. Injected, so tests run commands in-process and read what they printed. */
export type Write = (text: string) => void

/** Writes each line followed by `\n`, in one call (thousands of piece hashes stay one write). */
export function writeLines(write: Write, lines: readonly string[]): void {
  if (lines.length > 0) write(`${lines.join('\n')}\n`)
}

/** One JSON document on one line, so `--json` output is also valid NDJSON. */
export function writeJson(write: Write, value: unknown): void {
  write(`${JSON.stringify(value)}\n`)
}

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * Text from a torrent (names, comments, paths) made safe for a terminal and for line-based parsing:
 * control characters become `\n`, `\xNN` or `\uNNNN` escapes, so a name cannot forge an output line
 * or send escape sequences to the terminal.
 */
export function displayText(text: string): string {
  return text.replace(CONTROL, (char) => {
    const named = NAMED_ESCAPES[char]
    if (named !== undefined) return named
    const code = char.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`
  })
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

// `bt decode <bencoded>`: one bencoded value as one line of JSON.
import { decode, toJson, utf8ToBytes } from '@bt/bencode'
import type { RegisterCommand } from '../context.js'
import { MAX_TORRENT_FILE_BYTES, readInputFile } from '../input.js'

export const registerDecode: RegisterCommand = (program, { io, signal }) => {
  program
    .command('decode')
    .description('decode a bencoded value and print it as JSON on one line')
    .argument(
      '<bencoded>',
      "the bencoded text, e.g. 'd3:foo3:bar5:helloi52ee', or - to read raw bytes from stdin",
    )
    .option(
      '--lenient',
      'accept non-canonical bencode (unsorted or duplicate keys, leading zeros, trailing data)',
    )
    .addHelpText(
      'after',
      `
Output: the value as JSON on one line. Byte strings print as UTF-8 text (invalid sequences become
U+FFFD), integers exactly (beyond 2^53 too), dictionaries in input order.

Examples:
  $ bt decode 5:hello                    prints "hello"
  $ bt decode i52e                       prints 52
  $ bt decode l5:helloi52ee              prints ["hello",52]
  $ bt decode d3:foo3:bar5:helloi52ee    prints {"foo":"bar","hello":52}
  $ bt decode - < file.torrent`,
    )
    .action(async (text: string, options: { lenient?: boolean }) => {
      // Length prefixes count bytes, so the argument is measured in UTF-8: 6:naïve is "naïve".
      const bytes =
        text === '-'
          ? await readInputFile('-', io, { maxBytes: MAX_TORRENT_FILE_BYTES, signal })
          : utf8ToBytes(text)
      const value = decode(bytes, { strict: !options.lenient })
      io.stdout(`${toJson(value)}\n`)
    })
}

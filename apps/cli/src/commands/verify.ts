// `bt verify <torrent> <DIR>`: hashes the content on disk against the torrent and says what is complete.
import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { type Metainfo, parseTorrent } from '@bt/metainfo'
import type { RegisterCommand } from '../context.js'
import { CliError } from '../errors.js'
import { numberedFiles } from '../file-selection.js'
import { MAX_TORRENT_FILE_BYTES, readInputFile } from '../input.js'
import { displayText, writeJson, writeLines } from '../output.js'
import { type ContentTarget, openFileStore } from '../stores.js'

export const registerVerify: RegisterCommand = (program, { io, signal }) => {
  program
    .command('verify')
    .description('check content on disk against a torrent, piece by piece')
    .argument('<torrent>', 'a .torrent file')
    .argument('<path>', 'the directory holding the content (DIR/<name>), or the content itself')
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Output: "<valid>/<total> pieces OK (<percent>%)" and, when something is missing or wrong, the exit code 1
and the first bad piece indices; for a multi-file torrent, then each file (numbered as bt info shows
them): "OK" or how many of its pieces are valid. Uses every core.`,
    )
    .action(async (source: string, path: string, options: { json?: boolean }) => {
      const meta = parseTorrent(await readInputFile(source, io, { maxBytes: MAX_TORRENT_FILE_BYTES, signal }))
      const target = await locateContent(meta.name, meta.multiFile, resolve(io.cwd, path))
      // Hash everything once, trust no resume data, and leave no resume file behind.
      const store = await openFileStore(meta, target, signal, { resumeFile: null, check: 'none' })
      try {
        const have = await store.recheck({ signal })
        const bad = [...have.missing()]
        const percent = ((have.count / meta.pieceCount) * 100).toFixed(1)
        const files = fileChecks(meta, have)
        if (options.json) {
          writeJson(io.stdout, {
            valid: have.count,
            total: meta.pieceCount,
            complete: have.complete,
            badPieces: bad,
            files,
          })
        } else {
          writeLines(io.stdout, [`${have.count}/${meta.pieceCount} pieces OK (${percent}%)`])
          if (bad.length > 0) {
            const shown = bad.slice(0, 20).join(', ')
            writeLines(io.stdout, [
              `Bad or missing pieces: ${shown}${bad.length > 20 ? `, … (${bad.length} in all)` : ''}`,
            ])
          }
          if (meta.multiFile) {
            writeLines(io.stdout, [
              'Files:',
              ...files.map(
                (file) =>
                  `  ${file.index}  ${file.complete ? 'OK' : `${file.validPieces}/${file.pieces} pieces`}  ${displayText(file.path)}`,
              ),
            ])
          }
        }
        if (!have.complete) throw new CliError(`${displayText(meta.name)} is incomplete`)
      } finally {
        await store.close()
      }
    })
}

interface FileCheck {
  /** The number `bt info` shows. */
  index: number
  path: string
  /** Every piece covering the file is valid (a file in a piece shared with a bad file is not). */
  complete: boolean
  validPieces: number
  pieces: number
}

function fileChecks(meta: Metainfo, have: { has(index: number): boolean }): FileCheck[] {
  return numberedFiles(meta).map(({ number, index, file }) => {
    const range = meta.layout.piecesForFile(index)
    let validPieces = 0
    const pieces = range ? range[1] - range[0] + 1 : 0
    for (let piece = range?.[0] ?? 0; range && piece <= range[1]; piece++) if (have.has(piece)) validPieces++
    return { index: number, path: file.path.join('/'), complete: validPieces === pieces, validPieces, pieces }
  })
}

/** `DIR` holding `<name>`, or the content itself (the file, or the torrent's root folder). */
export async function locateContent(name: string, multiFile: boolean, path: string): Promise<ContentTarget> {
  const inside = await stat(join(path, name)).catch(() => undefined)
  if (inside) return { directory: path }
  const itself = await stat(path).catch(() => undefined)
  if ((itself?.isFile() && !multiFile) || (itself?.isDirectory() && multiFile)) return { contentPath: path }
  return { directory: path }
}

// Where a command's torrent content lives on disk: `-d DIR` (content at DIR/<name>) or the content
// itself (`-o FILE`, or a path to the file or folder).
import type { Metainfo } from '@bt/metainfo'
import { createFileStore, type FileStore, type FileStoreInit } from '@bt/piece-store'

export type ContentTarget = { directory: string } | { contentPath: string }

export async function openFileStore(
  meta: Metainfo,
  target: ContentTarget,
  signal: AbortSignal,
  init: Omit<FileStoreInit, 'directory' | 'contentPath'> = {},
): Promise<FileStore> {
  return await createFileStore(meta, { ...init, ...target }, { signal })
}

export { type ContentLocation, isPlainName } from './content-files.js'
export {
  isPieceHashMismatchError,
  PieceHashMismatchError,
  PieceMissingError,
  StorageError,
  type StorageErrorCode,
  StoreClosedError,
} from './errors.js'
export { createFileStore, type FileStore, type FileStoreInit, type OpenOptions } from './file-store.js'
export { createMemoryStore, type MemoryStoreInit } from './memory-store.js'
export type {
  AbortOptions,
  PieceStore,
  RecheckOptions,
  RecheckProgress,
} from './types.js'

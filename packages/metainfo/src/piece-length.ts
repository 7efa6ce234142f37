// Piece length for a new torrent: a power of two, chosen from the content size unless the caller insists.

/** 16 KiB: one request block; a smaller piece could not be requested whole. */
export const MIN_PIECE_LENGTH = 16 * 1024

/** 256 MiB, the largest `mktorrent` accepts (`-l 28`); larger pieces make peers wait too long per piece. */
export const MAX_CREATED_PIECE_LENGTH = 256 * 1024 * 1024

/** Upper bound of the automatic choice: beyond it more pieces are cheaper than longer ones. */
export const MAX_AUTO_PIECE_LENGTH = 16 * 1024 * 1024

/** The automatic choice keeps the piece count at or under this (so between 1025 and 2048 when unclamped). */
export const TARGET_MAX_PIECES = 2048

/**
 * The piece length `createTorrent` uses when none is given: the smallest power of two, at least 16 KiB,
 * that keeps the torrent at or under 2048 pieces, and never more than 16 MiB. So content of 1 GiB gets
 * 512 KiB pieces (2048 of them), 100 MiB gets 64 KiB (1600), anything under 32 MiB gets 16 KiB, and past
 * 32 GiB the piece count grows instead. The metadata stays under ~40 KiB of hashes for most content
 * while each piece stays small enough to be fetched from several peers quickly.
 */
export function choosePieceLength(totalLength: number): number {
  if (!Number.isSafeInteger(totalLength) || totalLength < 0) {
    throw new RangeError(`metainfo: total length must be a non-negative safe integer, got ${totalLength}`)
  }
  let pieceLength = MIN_PIECE_LENGTH
  while (pieceLength < MAX_AUTO_PIECE_LENGTH && Math.ceil(totalLength / pieceLength) > TARGET_MAX_PIECES) {
    pieceLength *= 2
  }
  return pieceLength
}

/** A piece length `createTorrent` accepts: a power of two from 16 KiB to 256 MiB. */
export function isValidPieceLength(pieceLength: number): boolean {
  return (
    Number.isSafeInteger(pieceLength) &&
    pieceLength >= MIN_PIECE_LENGTH &&
    pieceLength <= MAX_CREATED_PIECE_LENGTH &&
    (pieceLength & (pieceLength - 1)) === 0
  )
}

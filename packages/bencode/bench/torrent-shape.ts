// A deterministic torrent shaped like large real ones: 20 000 piece hashes, 5 000 files in nested
// folders (some names non-ASCII), a multi-tier announce-list and web seeds.

// A type alias, not an interface: only aliases get the implicit index signature `BencodeInput` needs.
export type BenchTorrent = {
  announce: string
  'announce-list': string[][]
  comment: string
  'created by': string
  'creation date': number
  encoding: string
  info: {
    files: { length: number; path: string[] }[]
    name: string
    'piece length': number
    pieces: Uint8Array
  }
  'url-list': string[]
}

/** xorshift32: the same bytes on every run, so numbers compare across runs. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}

const WORDS = ['disc', 'track', 'Música', 'extras', 'サンプル', 'season', 'chapter', 'notes', 'data', 'Ωmega']

export function largeTorrent(pieceCount = 20_000, fileCount = 5_000): BenchTorrent {
  const next = random(0x9e3779b9)
  const pick = () => WORDS[Math.floor(next() * WORDS.length)]!
  const pieces = new Uint8Array(pieceCount * 20)
  for (let i = 0; i < pieces.length; i++) pieces[i] = Math.floor(next() * 256)
  const files = []
  for (let i = 0; i < fileCount; i++) {
    const depth = 1 + Math.floor(next() * 4)
    const path: string[] = []
    for (let d = 1; d < depth; d++) path.push(`${pick()} ${Math.floor(next() * 20)}`)
    path.push(`${pick()}-${i}.${next() < 0.5 ? 'flac' : 'txt'}`)
    files.push({ length: Math.floor(next() * 2 ** 36), path })
  }
  const trackers = (tier: number) =>
    Array.from({ length: 3 }, (_, i) => `udp://tracker${tier}-${i}.example.org:${6969 + i}/announce`)
  return {
    announce: 'udp://tracker0-0.example.org:6969/announce',
    'announce-list': [trackers(0), trackers(1), trackers(2), trackers(3)],
    comment: 'A synthetic torrent shaped like a large real-world one.',
    'created by': 'mktorrent 1.1',
    'creation date': 1_700_000_000,
    encoding: 'UTF-8',
    info: { files, name: 'Large collection', 'piece length': 4_194_304, pieces },
    'url-list': ['https://mirror1.example.org/pub/', 'https://mirror2.example.org/pub/'],
  }
}

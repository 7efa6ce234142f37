// Who gets upload slots (DESIGN §2, BEP 3 "choking"): every rechoke, the interested peers that give us
// the most (leeching: their download rate to us) or take the most (seeding: our upload rate to them)
// are unchoked, plus one optimistic unchoke that rotates so newcomers get a chance.

export interface ChokeCandidate<P> {
  peer: P
  interested: boolean
  /** Bytes/s the peer sends us. */
  downloadRate: number
  /** Bytes/s we send the peer. */
  uploadRate: number
}

export interface ChokeDecision<P> {
  unchoke: Set<P>
  /** The optimistic unchoke, kept until the next rotation. */
  optimistic: P | undefined
}

/**
 * Picks the peers to unchoke: the `slots` best interested peers (by download rate while leeching, by
 * upload rate while seeding), plus `optimistic` — kept if still interested and not `rotate`, else a
 * random other interested peer (`random` in [0, 1)).
 */
export function chooseUnchoked<P>(
  candidates: readonly ChokeCandidate<P>[],
  options: {
    slots: number
    seeding: boolean
    optimistic: P | undefined
    rotate: boolean
    random?: () => number
  },
): ChokeDecision<P> {
  const interested = candidates.filter((candidate) => candidate.interested)
  const rate = (candidate: ChokeCandidate<P>) =>
    options.seeding ? candidate.uploadRate : candidate.downloadRate
  const ranked = interested.slice().sort((a, b) => rate(b) - rate(a))
  const unchoke = new Set(ranked.slice(0, options.slots).map((candidate) => candidate.peer))
  const others = interested.filter((candidate) => !unchoke.has(candidate.peer))
  let optimistic = options.optimistic
  const keep = !options.rotate && others.some((candidate) => candidate.peer === optimistic)
  if (!keep) {
    const random = options.random ?? Math.random
    optimistic = others.length > 0 ? others[Math.floor(random() * others.length)]!.peer : undefined
  }
  if (optimistic !== undefined) unchoke.add(optimistic)
  return { unchoke, optimistic }
}

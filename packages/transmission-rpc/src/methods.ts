// The RPC methods, from a request body to the answer Transmission would give, with no HTTP in sight.
// Every failure (bad JSON, unknown method, bad argument, a session that throws) becomes an answer
// whose `result` says why: Transmission answers HTTP 200 with `{"result": "<reason>"}`.
import { isAbsolute } from 'node:path'
import { RpcArgumentError } from './errors.js'
import type { RpcQueueMove, RpcSession, RpcTorrent, RpcTorrentChanges } from './session.js'
import { sessionChanges, sessionObject } from './session-fields.js'
import { int, knownFields, torrentObject, torrentRow } from './torrent-fields.js'

/** Transmission's window for `ids: "recently-active"`. */
export const RECENTLY_ACTIVE_SECONDS = 60

export interface RpcAnswer {
  readonly result: string
  readonly arguments: Record<string, unknown>
  readonly tag?: number | string
}

export interface RpcRequest {
  readonly method: string
  readonly arguments: Record<string, unknown>
  readonly tag?: number | string
}

export interface MethodContext {
  readonly session: RpcSession
  /** Milliseconds since the epoch. */
  now(): number
  /** The `X-Transmission-Session-Id`, reported as `session-id` by `session-get`. */
  readonly sessionId?: string
  /** Fetches a `.torrent` from an http(s) URL, bounded in size and time. */
  fetchTorrent(url: string): Promise<Uint8Array>
}

export interface HandledRequest {
  readonly answer: RpcAnswer
  /** Work to run once the answer is sent (`session-close`). */
  readonly after?: () => Promise<void>
}

/** Parses a request body: `{ "method": …, "arguments"?: {…}, "tag"?: … }`, or the answer saying why not. */
export function parseRequest(
  body: string,
): { ok: true; request: RpcRequest } | { ok: false; answer: RpcAnswer } {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return { ok: false, answer: { result: 'invalid JSON in request body', arguments: {} } }
  }
  if (!isRecord(parsed))
    return { ok: false, answer: { result: 'request must be a JSON object', arguments: {} } }
  const tag = typeof parsed.tag === 'number' || typeof parsed.tag === 'string' ? parsed.tag : undefined
  const withTag = (result: string): RpcAnswer =>
    tag === undefined ? { result, arguments: {} } : { result, arguments: {}, tag }
  if (typeof parsed.method !== 'string') return { ok: false, answer: withTag('no method name') }
  const args = parsed.arguments ?? {}
  if (!isRecord(args)) return { ok: false, answer: withTag('arguments must be a JSON object') }
  const request: RpcRequest =
    tag === undefined
      ? { method: parsed.method, arguments: args }
      : { method: parsed.method, arguments: args, tag }
  return { ok: true, request }
}

/** Answers one request body; never throws. */
export async function handleBody(body: string, context: MethodContext): Promise<HandledRequest> {
  const parsed = parseRequest(body)
  if (!parsed.ok) return { answer: parsed.answer }
  const { request } = parsed
  const reply = (result: string, args: Record<string, unknown> = {}): RpcAnswer =>
    request.tag === undefined ? { result, arguments: args } : { result, arguments: args, tag: request.tag }
  const method = Object.hasOwn(METHODS, request.method) ? METHODS[request.method] : undefined
  if (method === undefined) return { answer: reply('method name not recognized') }
  try {
    const outcome = await method(request.arguments, context)
    return outcome.after === undefined
      ? { answer: reply('success', outcome.arguments) }
      : { answer: reply('success', outcome.arguments), after: outcome.after }
  } catch (error) {
    return { answer: reply(error instanceof Error ? error.message : 'internal error') }
  }
}

interface MethodOutcome {
  readonly arguments: Record<string, unknown>
  readonly after?: () => Promise<void>
}

type Method = (args: Record<string, unknown>, context: MethodContext) => Promise<MethodOutcome>

const done = (args: Record<string, unknown> = {}): MethodOutcome => ({ arguments: args })

const onIds =
  (
    act: (session: RpcSession, ids: readonly number[], args: Record<string, unknown>) => Promise<void>,
  ): Method =>
  async (args, context) => {
    const ids = selectTorrents(context.session, args.ids, nowSeconds(context)).torrents.map((t) => t.id)
    if (ids.length > 0) await act(context.session, ids, args)
    return done()
  }

const queueMove = (move: RpcQueueMove): Method => onIds((session, ids) => session.queueMove(ids, move))

const METHODS: Readonly<Record<string, Method>> = {
  'torrent-get': torrentGet,
  'torrent-add': torrentAdd,
  'torrent-start': onIds((session, ids) => session.start(ids, false)),
  'torrent-start-now': onIds((session, ids) => session.start(ids, true)),
  'torrent-stop': onIds((session, ids) => session.stop(ids)),
  'torrent-verify': onIds((session, ids) => session.verify(ids)),
  'torrent-reannounce': onIds((session, ids) => session.reannounce(ids)),
  'torrent-remove': onIds((session, ids, args) =>
    session.remove(ids, { deleteData: optionalBoolean(args, 'delete-local-data') ?? false }),
  ),
  'torrent-set': async (args, context) => {
    const changes = torrentChanges(args)
    const ids = selectTorrents(context.session, args.ids, nowSeconds(context)).torrents.map((t) => t.id)
    if (ids.length > 0 && Object.keys(changes).length > 0) await context.session.set(ids, changes)
    return done()
  },
  'torrent-set-location': async (args, context) => {
    const location = absolutePath(args, 'location')
    const move = optionalBoolean(args, 'move') ?? false
    const ids = selectTorrents(context.session, args.ids, nowSeconds(context)).torrents.map((t) => t.id)
    if (ids.length > 0) await context.session.setLocation(ids, location, move)
    return done()
  },
  'torrent-rename-path': async (args, context) => {
    const selected = selectTorrents(context.session, args.ids, nowSeconds(context)).torrents
    if (selected.length !== 1)
      throw new RpcArgumentError('invalid-ids', 'torrent-rename-path must name exactly one torrent')
    const path = plainString(args, 'path')
    const name = plainString(args, 'name')
    const id = selected[0]!.id
    await context.session.renamePath(id, path, name)
    return done({ id, path, name })
  },
  'queue-move-top': queueMove('top'),
  'queue-move-up': queueMove('up'),
  'queue-move-down': queueMove('down'),
  'queue-move-bottom': queueMove('bottom'),
  'session-get': async (args, context) => {
    const fields = args.fields === undefined ? undefined : stringList(args, 'fields')
    const settings = context.session.settings()
    const wantsFree = fields === undefined || fields.includes('download-dir-free-space')
    // Transmission 3.00 still sends this (deprecated) field; some clients read it instead of free-space.
    const free = wantsFree ? await context.session.freeSpace(settings.downloadDir).catch(() => -1) : -1
    return done(
      sessionObject(
        settings,
        {
          version: context.session.version,
          sessionId: context.sessionId ?? '',
          downloadDirFreeSpace: int(free),
        },
        fields,
      ),
    )
  },
  'session-set': async (args, context) => {
    const parsed = sessionChanges(args)
    if (!parsed.ok) throw new RpcArgumentError('invalid-argument', parsed.error)
    if (Object.keys(parsed.changes).length > 0) await context.session.setSettings(parsed.changes)
    return done()
  },
  'session-stats': sessionStats,
  'free-space': async (args, context) => {
    const path = absolutePath(args, 'path')
    const free = await context.session.freeSpace(path)
    return done({ path, 'size-bytes': int(free) })
  },
  'port-test': async (_args, context) => {
    const open = context.session.peerPortOpen()
    if (open === undefined) throw new Error('port test: unknown, no peer has connected to our port yet')
    return done({ 'port-is-open': open })
  },
  'session-close': async (_args, context) => ({ arguments: {}, after: () => context.session.close() }),
}

async function torrentGet(args: Record<string, unknown>, context: MethodContext): Promise<MethodOutcome> {
  if (args.fields === undefined) throw new RpcArgumentError('invalid-argument', 'no fields specified')
  const fields = knownFields(stringList(args, 'fields'))
  const format = args.format ?? 'objects'
  if (format !== 'objects' && format !== 'table') {
    throw new RpcArgumentError('invalid-argument', 'format must be "objects" or "table"')
  }
  const selected = selectTorrents(context.session, args.ids, nowSeconds(context))
  const torrents =
    format === 'table'
      ? [fields, ...selected.torrents.map((t) => torrentRow(t, fields))]
      : selected.torrents.map((t) => torrentObject(t, fields))
  return done(selected.removed === undefined ? { torrents } : { torrents, removed: selected.removed })
}

async function torrentAdd(args: Record<string, unknown>, context: MethodContext): Promise<MethodOutcome> {
  const downloadDir = args['download-dir'] === undefined ? undefined : absolutePath(args, 'download-dir')
  const paused = optionalBoolean(args, 'paused')
  const options = {
    ...(downloadDir === undefined ? {} : { downloadDir }),
    ...(paused === undefined ? {} : { paused }),
  }
  const source = await addSource(args, context)
  const { kind, torrent } = await context.session.add({ ...source, ...options })
  const summary = { hashString: torrent.hashString, id: torrent.id, name: torrent.name }
  return done(kind === 'added' ? { 'torrent-added': summary } : { 'torrent-duplicate': summary })
}

/** Where a `torrent-add` takes its torrent from: `metainfo` (base64), or `filename` (magnet, http(s) URL or absolute path). */
export async function addSource(
  args: Record<string, unknown>,
  context: Pick<MethodContext, 'fetchTorrent'>,
): Promise<{ metainfo: Uint8Array } | { magnet: string } | { path: string }> {
  if (args.metainfo !== undefined) {
    if (typeof args.metainfo !== 'string')
      throw new RpcArgumentError('invalid-argument', 'metainfo must be a string')
    return { metainfo: decodeBase64(args.metainfo) }
  }
  const filename = args.filename
  if (filename === undefined)
    throw new RpcArgumentError('invalid-argument', 'no filename or metainfo specified')
  if (typeof filename !== 'string')
    throw new RpcArgumentError('invalid-argument', 'filename must be a string')
  if (/^magnet:/i.test(filename)) return { magnet: filename }
  if (/^https?:\/\//i.test(filename)) return { metainfo: await context.fetchTorrent(filename) }
  if (/^[a-z][a-z0-9+.-]*:/i.test(filename) && !isAbsolute(filename)) {
    throw new RpcArgumentError(
      'invalid-argument',
      'filename must be a magnet link, an http(s) URL or an absolute path',
    )
  }
  if (!isAbsolute(filename) || filename.includes('\0')) {
    throw new RpcArgumentError('invalid-argument', 'filename must be an absolute path')
  }
  return { path: filename }
}

/** Strict base64 (whitespace allowed, as some clients wrap lines): anything else is an argument error. */
export function decodeBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '')
  if (compact === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new RpcArgumentError('invalid-argument', 'metainfo is not valid base64')
  }
  return new Uint8Array(Buffer.from(compact, 'base64'))
}

async function sessionStats(_args: Record<string, unknown>, context: MethodContext): Promise<MethodOutcome> {
  const torrents = context.session.torrents()
  const stats = context.session.stats()
  let active = 0
  let down = 0
  let up = 0
  for (const torrent of torrents) {
    if (torrent.status !== 0) active++
    down += torrent.rateDownload
    up += torrent.rateUpload
  }
  const totals = (t: typeof stats.current) => ({
    downloadedBytes: int(t.downloadedBytes),
    filesAdded: int(t.filesAdded),
    secondsActive: int(t.secondsActive),
    sessionCount: int(t.sessionCount),
    uploadedBytes: int(t.uploadedBytes),
  })
  return done({
    activeTorrentCount: active,
    'cumulative-stats': totals(stats.cumulative),
    'current-stats': totals(stats.current),
    downloadSpeed: int(down),
    pausedTorrentCount: torrents.length - active,
    torrentCount: torrents.length,
    uploadSpeed: int(up),
  })
}

/**
 * The torrents `ids` names, sorted by id: absent = all; a number; a hash string; a list of those; or
 * `"recently-active"` (changed in the last minute), which also reports the ids removed meanwhile.
 * Ids and hashes that match nothing are skipped, as Transmission does.
 */
export function selectTorrents(
  session: RpcSession,
  ids: unknown,
  nowSeconds: number,
): { torrents: RpcTorrent[]; removed?: number[] } {
  const all = [...session.torrents()].sort((a, b) => a.id - b.id)
  if (ids === undefined) return { torrents: all }
  if (ids === 'recently-active') {
    const since = nowSeconds - RECENTLY_ACTIVE_SECONDS
    const torrents = all.filter(
      (t) => Math.max(t.addedDate, t.activityDate, t.doneDate, t.startDate ?? 0, t.editDate ?? 0) >= since,
    )
    return { torrents, removed: [...session.removedSince(since)] }
  }
  const wanted = Array.isArray(ids) ? ids : [ids]
  const numbers = new Set<number>()
  const hashes = new Set<string>()
  for (const id of wanted) {
    if (typeof id === 'number' && Number.isSafeInteger(id)) numbers.add(id)
    else if (typeof id === 'string') hashes.add(id.toLowerCase())
    else
      throw new RpcArgumentError('invalid-ids', 'ids must be torrent ids, hash strings or "recently-active"')
  }
  return { torrents: all.filter((t) => numbers.has(t.id) || hashes.has(t.hashString.toLowerCase())) }
}

/** `torrent-set`'s arguments as RpcTorrentChanges; unknown keys are ignored, known ones type-checked. */
export function torrentChanges(args: Record<string, unknown>): RpcTorrentChanges {
  const changes: { -readonly [K in keyof RpcTorrentChanges]: RpcTorrentChanges[K] } = {}
  const count = (name: string) => optionalInteger(args, name, 0)
  const mode = (name: string) => {
    const value = optionalInteger(args, name, 0)
    if (value !== undefined && value > 2)
      throw new RpcArgumentError('invalid-argument', `${name} must be 0, 1 or 2`)
    return value as 0 | 1 | 2 | undefined
  }
  const assign = <K extends keyof RpcTorrentChanges>(key: K, value: RpcTorrentChanges[K] | undefined) => {
    if (value !== undefined) changes[key] = value
  }
  assign('downloadLimit', count('downloadLimit'))
  assign('downloadLimited', optionalBoolean(args, 'downloadLimited'))
  assign('uploadLimit', count('uploadLimit'))
  assign('uploadLimited', optionalBoolean(args, 'uploadLimited'))
  assign('honorsSessionLimits', optionalBoolean(args, 'honorsSessionLimits'))
  const priority = optionalInteger(args, 'bandwidthPriority', -1)
  if (priority !== undefined && priority > 1) {
    throw new RpcArgumentError('invalid-argument', 'bandwidthPriority must be -1, 0 or 1')
  }
  assign('bandwidthPriority', priority as -1 | 0 | 1 | undefined)
  assign('peerLimit', count('peer-limit'))
  if (args.seedRatioLimit !== undefined) {
    const ratio = args.seedRatioLimit
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0) {
      throw new RpcArgumentError('invalid-argument', 'seedRatioLimit must be a non-negative number')
    }
    changes.seedRatioLimit = ratio
  }
  assign('seedRatioMode', mode('seedRatioMode'))
  assign('seedIdleLimit', count('seedIdleLimit'))
  assign('seedIdleMode', mode('seedIdleMode'))
  assign('queuePosition', count('queuePosition'))
  assign('filesWanted', optionalIndexList(args, 'files-wanted'))
  assign('filesUnwanted', optionalIndexList(args, 'files-unwanted'))
  assign('priorityHigh', optionalIndexList(args, 'priority-high'))
  assign('priorityNormal', optionalIndexList(args, 'priority-normal'))
  assign('priorityLow', optionalIndexList(args, 'priority-low'))
  if (args.trackerAdd !== undefined) {
    const urls = stringList(args, 'trackerAdd')
    for (const url of urls) {
      if (!/^(https?|udp):\/\/[^\s]+$/i.test(url)) {
        throw new RpcArgumentError(
          'invalid-argument',
          `trackerAdd: ${JSON.stringify(url)} is not an announce URL`,
        )
      }
    }
    changes.trackerAdd = urls
  }
  assign('trackerRemove', optionalIndexList(args, 'trackerRemove'))
  return changes
}

function nowSeconds(context: MethodContext): number {
  return Math.floor(context.now() / 1000)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function optionalBoolean(args: Record<string, unknown>, name: string): boolean | undefined {
  const value = args[name]
  if (value === undefined) return undefined
  // Transmission's own variant code reads 0/1 as booleans, and some clients send them.
  if (value === 0 || value === 1) return value === 1
  if (typeof value !== 'boolean') throw new RpcArgumentError('invalid-argument', `${name} must be a boolean`)
  return value
}

function optionalInteger(args: Record<string, unknown>, name: string, min: number): number | undefined {
  const value = args[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RpcArgumentError('invalid-argument', `${name} must be an integer of at least ${min}`)
  }
  return value
}

function optionalIndexList(args: Record<string, unknown>, name: string): number[] | undefined {
  const value = args[name]
  if (value === undefined) return undefined
  if (
    !Array.isArray(value) ||
    !value.every((i) => typeof i === 'number' && Number.isSafeInteger(i) && i >= 0)
  ) {
    throw new RpcArgumentError('invalid-argument', `${name} must be a list of non-negative integers`)
  }
  return value as number[]
}

function stringList(args: Record<string, unknown>, name: string): string[] {
  const value = args[name]
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
    throw new RpcArgumentError('invalid-argument', `${name} must be a list of strings`)
  }
  return value as string[]
}

function plainString(args: Record<string, unknown>, name: string): string {
  const value = args[name]
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw new RpcArgumentError('invalid-argument', `${name} must be a non-empty string`)
  }
  return value
}

function absolutePath(args: Record<string, unknown>, name: string): string {
  const value = args[name]
  if (typeof value !== 'string' || !isAbsolute(value) || value.includes('\0')) {
    throw new RpcArgumentError('invalid-argument', `${name} must be an absolute path`)
  }
  return value
}

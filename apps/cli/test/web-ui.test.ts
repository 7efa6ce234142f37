// Transmission's own web client (Debian's transmission-common) in a real browser — Debian's chromium,
// headless, driven by puppeteer-core — against `bt daemon`: the page loads, lists the daemon's torrent
// by name with its progress once it has downloaded from a libtorrent seeder, and a torrent added through
// the page's upload dialog appears in the page and in transmission-remote's list. A screenshot of the
// page is saved to test/output/web-ui.png.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  describeWithTools,
  type LibtorrentSeeder,
  type LoopbackTracker,
  startBittorrentTracker,
} from '@bt/test-helpers'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RunningDaemon, startDaemon } from './daemon-harness.js'
import { stopBt } from './leechers.js'
import { removeFixture, seededFixture, sleep, type TorrentFixture } from './swarm.js'

const outputDir = join(dirname(fileURLToPath(import.meta.url)), 'output')
const screenshotPath = join(outputDir, 'web-ui.png')

/** The flags that work on this kind of machine (closed network, root): see .library/env/machines/node.md. */
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

interface PageRow {
  name: string
  progress: string
  peers: string
  bar: string
}

describeWithTools(
  ['py:libtorrent', 'transmission-remote', 'chromium'],
  'Transmission web UI against bt daemon',
  () => {
    let tracker: LoopbackTracker
    let fixture: TorrentFixture
    let seeder: LibtorrentSeeder
    let uploaded: TorrentFixture
    let uploadedSeeder: LibtorrentSeeder
    let daemon: RunningDaemon | undefined
    let browser: Browser | undefined
    let page: Page
    let userDataDir: string | undefined
    /** What the page said in its console, its uncaught errors and its alert()s: shown when a check fails. */
    const pageLog: string[] = []
    /** Every RPC call the page made that the daemon did not answer with `result: "success"`. */
    const failedCalls: string[] = []

    beforeAll(async () => {
      tracker = await startBittorrentTracker()
      ;({ fixture, seeder } = await seededFixture(tracker.httpUrl, {
        name: 'web-ui.bin',
        length: 2 * 1024 * 1024 + 17,
        pieceLength: 64 * 1024,
        host: '127.0.0.2',
      }))
      ;({ fixture: uploaded, seeder: uploadedSeeder } = await seededFixture(tracker.httpUrl, {
        name: 'uploaded-through-page.bin',
        length: 1024 * 1024 + 5,
        pieceLength: 32 * 1024,
        host: '127.0.0.3',
      }))

      daemon = await startDaemon({
        stateDir: join(fixture.root, 'state'),
        downloadDir: join(fixture.root, 'downloads'),
        cwd: fixture.root,
      })
      expect(await remote('-a', fixture.torrentPath)).toMatch(/success/)

      userDataDir = await mkdtemp(join(tmpdir(), 'bt-chromium-'))
      browser = await puppeteer.launch({
        executablePath: '/usr/bin/chromium',
        headless: true,
        userDataDir,
        args: chromiumFlags,
        timeout: 20_000,
      })
      page = await browser.newPage()
      await page.setViewport({ width: 1100, height: 520 })
      page.on('console', (message) => pageLog.push(`console.${message.type()}: ${message.text()}`))
      page.on('pageerror', (error) => pageLog.push(`pageerror: ${String(error)}`))
      page.on('response', async (response) => {
        const request = response.request()
        if (!request.url().includes('/transmission/rpc') || response.status() === 409) return
        const method = (JSON.parse(request.postData() ?? '{}') as { method?: string }).method
        const body = await response.text().catch((error: unknown) => `(no body: ${String(error)})`)
        let result: unknown
        try {
          result = (JSON.parse(body) as { result?: unknown }).result
        } catch {
          result = undefined
        }
        if (response.status() !== 200 || result !== 'success')
          failedCalls.push(`${method}: HTTP ${response.status()} ${body}`)
      })
      page.on('dialog', (dialog) => {
        pageLog.push(`dialog: ${dialog.message()}`)
        void dialog.dismiss()
      })
      // The web client's own preference (a cookie): poll every second, not every five.
      await browser.setCookie({ name: 'refresh_rate', value: '1', domain: '127.0.0.1', path: '/' })
    }, 60_000)

    afterAll(async () => {
      await browser?.close()
      if (userDataDir) await rm(userDataDir, { recursive: true, force: true })
      if (daemon) await stopBt(daemon.process)
      await seeder?.stop()
      await uploadedSeeder?.stop()
      await tracker?.close()
      if (fixture) await removeFixture(fixture)
      if (uploaded) await removeFixture(uploaded)
    }, 30_000)

    const remote = (...args: string[]) => daemon!.remote(...args)

    /** The torrent rows the page shows: `.torrent` elements of the web client's list. */
    function pageRows(): Promise<PageRow[]> {
      return page.$$eval('#torrent_list .torrent', (elements) =>
        elements.map((element) => ({
          name: element.querySelector('.torrent_name')?.textContent ?? '',
          progress: element.querySelector('.torrent_progress_details')?.textContent ?? '',
          peers: element.querySelector('.torrent_peer_details')?.textContent ?? '',
          bar: element.querySelector('.torrent_progress_bar.complete')?.getAttribute('class') ?? '',
        })),
      )
    }

    /** Waits until the page shows a row `test` accepts; on timeout, fails with the rows, the page's log and the daemon's stderr. */
    async function waitForPageRow(
      test: (row: PageRow) => boolean,
      what: string,
      timeoutMs = 30_000,
    ): Promise<PageRow> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const rows = await pageRows()
        const row = rows.find(test)
        if (row) return row
        if (Date.now() > deadline) {
          throw new Error(
            `the page shows no row where ${what}; rows: ${JSON.stringify(rows)}\n` +
              `page log:\n${pageLog.join('\n')}\ndaemon stderr:\n${daemon?.process.output().stderr}`,
          )
        }
        await sleep(200)
      }
    }

    /** A complete torrent that seeds, as the web client renders it: "2.09 MB, uploaded … (Ratio …)", "Seeding to …". */
    const seedingRow = (name: string) => (row: PageRow) =>
      row.name === name &&
      /\bseeding\b/.test(row.bar) &&
      /, uploaded /.test(row.progress) &&
      /^Seeding to /.test(row.peers)

    it('loads and lists the daemon’s torrent by name with its progress, complete and seeding', async () => {
      const response = await page.goto(`http://127.0.0.1:${daemon!.rpcPort}/transmission/web/`, {
        waitUntil: 'load',
        timeout: 15_000,
      })
      expect(response?.status()).toBe(200)
      expect(await page.title()).toBe('Transmission Web Interface')
      const first = await waitForPageRow((row) => row.name === fixture.name, 'the daemon’s torrent is listed')
      expect(first.progress).toMatch(/MiB|KiB|kB|MB/)
      const done = await waitForPageRow(seedingRow(fixture.name), 'the torrent is complete and seeding')
      expect(done.progress).toMatch(/^2\.09 MB, uploaded 0 B /)
      expect(pageLog.filter((line) => line.startsWith('pageerror') || line.startsWith('dialog'))).toEqual([])
      expect(failedCalls).toEqual([])
    }, 45_000)

    it('adds a torrent through the upload dialog: it appears in the page and in transmission-remote -l; saves a screenshot to test/output/web-ui.png', async () => {
      await page.click('#toolbar-open')
      await page.waitForSelector('#upload_container', { visible: true, timeout: 5_000 })
      const input = await page.waitForSelector('#torrent_upload_file', { timeout: 5_000 })
      await input!.uploadFile(uploaded.torrentPath)
      await page.click('#upload_confirm_button')
      await page.waitForSelector('#upload_container', { hidden: true, timeout: 5_000 })

      await waitForPageRow((row) => row.name === uploaded.name, 'the uploaded torrent is listed')
      expect(await remote('-l')).toContain(uploaded.name)
      const done = await waitForPageRow(
        seedingRow(uploaded.name),
        'the uploaded torrent is complete and seeding',
      )
      expect(done.progress).toMatch(/^1\.04 MB, uploaded 0 B /)
      expect((await pageRows()).map((row) => row.name).sort()).toEqual([uploaded.name, fixture.name].sort())
      expect(pageLog.filter((line) => line.startsWith('pageerror') || line.startsWith('dialog'))).toEqual([])
      expect(failedCalls).toEqual([])

      await mkdir(outputDir, { recursive: true })
      await page.screenshot({ path: screenshotPath, type: 'png' })
      console.log(`web UI screenshot: ${screenshotPath}`)
    }, 45_000)
  },
)

// How the browser drivers get a browser: the test session's shared Chromium when
// CAPTURE_BROWSER_WS names one (tests/sdk/js/browser_server.mjs; each driver gets a context of its
// own, as fresh as a new profile), else a Chromium of their own.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

export const CHROMIUM_ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
]

// A browser context and the one way to be done with it.
export async function openContext({ executablePath, timeoutMs, userAgent }) {
    const options = userAgent ? { userAgent } : {}
    const shared = process.env.CAPTURE_BROWSER_WS
    if (shared) {
        const browser = await chromium.connect(shared, { timeout: timeoutMs })
        const context = await browser.newContext(options)
        context.setDefaultTimeout(timeoutMs)
        return { context, tab: await context.newPage(), close: async () => {
            await context.close().catch(() => {})
            await browser.close().catch(() => {})
        } }
    }
    const profile = mkdtempSync(join(tmpdir(), 'capture-sdk-chromium-'))
    const context = await chromium.launchPersistentContext(profile, {
        executablePath, headless: true, args: CHROMIUM_ARGS, timeout: timeoutMs, ...options,
    })
    context.setDefaultTimeout(timeoutMs)
    return { context, tab: context.pages()[0] ?? (await context.newPage()), close: async () => {
        await context.close().catch(() => {})
        rmSync(profile, { recursive: true, force: true })
    } }
}

// A driver's one run: `work(opened)` in a browser context of its own (what it throws becomes
// `report.error`), then the report on stdout. The context stays open until stdin closes (the test
// may wait for requests that outlive their page, beacons), then the process ends: whatever
// happens, within three timeouts.
export async function runDriver(report, options, work) {
    setTimeout(() => {
        report.error = `gave up after ${3 * options.timeoutMs} ms`
        process.stdout.write(JSON.stringify(report) + '\n')
        process.exit(2)
    }, 3 * options.timeoutMs).unref()
    const stdinClosed = new Promise((resolve) => process.stdin.on('end', resolve).on('error', resolve).resume())
    let opened
    try {
        opened = await openContext(options)
        await work(opened)
    } catch (error) {
        report.error = String(error?.stack ?? error)
    }
    process.stdout.write(JSON.stringify(report) + '\n')
    await stdinClosed
    await opened?.close()
    process.exit(0)
}

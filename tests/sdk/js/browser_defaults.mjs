// posthog-js at its DEFAULT settings in headless Chromium: the page loads the SDK's own `array.js`
// and calls `posthog.init(token, { api_host })` (plus `opt_out_useragent_filter`, only because
// headless Chromium calls itself a bot), as a site would. Everything else posthog-js fetches
// (remote config, flags, lazy scripts) comes from the API.
//
//   node browser_defaults.mjs --api-host URL --token TOKEN --distinct-id ID --sdk posthog-js|posthog-js-1200
//                             [--record] [--heavy-page CHARACTERS] [--snippet] [--products]
//
// --snippet loads the SDK from the API, as PostHog's newer HTML snippet does
// (`<api_host>/array/<token>/array.js`: posthog-js and the project's config in one script).
// --products asks for the early access features and the surveys, as a page using them does.
// --cookieless inits posthog-js with `cookieless_mode: "always"` (no cookie, no identify); with
// --reload the page is loaded a second time. --user-agent and --page-port set the browser's user
// agent and the page's port, so that two runs can be two visitors of one site.
// --steps N then captures 10 events ("quota step") N times, each time waiting until they are sent
// and 1.5 s more, so that what the server decides after one step (a quota reached) is in force for
// the next. --record-seconds keeps changing the page that long after the first recording request.
// --heavy-page puts that many characters of random text in the page before posthog-js starts, so
// that its recording's full snapshot is large even once compressed (a heavy page).
// It loads the page, lets posthog-js settle, clicks a button, types into a field, identifies the
// user and waits for the queue to flush (with --record, also for a recording request). Prints one
// JSON line: every request to the API with its answer, every console message and page error, and
// posthog-js's ids. The browser stays open until stdin closes.

import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { runDriver } from './browser.mjs'

const require = createRequire(import.meta.url)
const { values: args } = parseArgs({
    options: {
        'api-host': { type: 'string' },
        token: { type: 'string' },
        'distinct-id': { type: 'string' },
        sdk: { type: 'string', default: 'posthog-js' },
        record: { type: 'boolean', default: false },
        'heavy-page': { type: 'string', default: '0' },
        snippet: { type: 'boolean', default: false },
        products: { type: 'boolean', default: false },
        cookieless: { type: 'boolean', default: false },
        reload: { type: 'boolean', default: false },
        'user-agent': { type: 'string' },
        'page-port': { type: 'string', default: '0' },
        steps: { type: 'string', default: '0' },
        'record-seconds': { type: 'string', default: '0' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
        'timeout-ms': { type: 'string', default: '20000' },
    },
})
if (!args['api-host'] || !args.token || !args['distinct-id'] || !['posthog-js', 'posthog-js-1200'].includes(args.sdk)) {
    console.error('usage: browser_defaults.mjs --api-host URL --token TOKEN --distinct-id ID --sdk posthog-js|posthog-js-1200 [--record]')
    process.exit(64)
}
const apiHost = args['api-host'].replace(/\/$/, '')
const timeoutMs = Number(args['timeout-ms'])

const sdkDir = join(require.resolve(`${args.sdk}/package.json`), '..')
const sdkVersion = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')).version
const bundle = readFileSync(join(sdkDir, 'dist', 'array.js'))
// Random text (64 symbols: about 6 bits a character, so gzip keeps about three quarters of it), in
// paragraphs of 10,000 characters, written before posthog-js loads.
const HEAVY = Number(args['heavy-page']) > 0 ? `<script>
(() => {
    const symbols = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
    const bytes = new Uint8Array(10000)
    for (let left = ${Number(args['heavy-page'])}; left > 0; left -= bytes.length) {
        crypto.getRandomValues(bytes)
        const text = Array.from(bytes.subarray(0, Math.min(left, bytes.length)), (b) => symbols[b & 63]).join('')
        document.addEventListener('DOMContentLoaded', () => {
            const paragraph = document.createElement('p')
            paragraph.textContent = text
            document.body.appendChild(paragraph)
        })
    }
})()
</script>` : ''
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>shop</title><link rel="icon" href="data:,">
${HEAVY}
<script src="${args.snippet ? `${apiHost}/array/${args.token}/array.js` : '/array.js'}"></script>
<script>posthog.init(${JSON.stringify(args.token)}, { api_host: ${JSON.stringify(apiHost)}, opt_out_useragent_filter: true${args.cookieless ? ", cookieless_mode: 'always'" : ''} })</script>
</head><body><h1>Warm socks</h1><button id="buy">Buy socks</button>
<form onsubmit="return false"><label>Note <input id="note" name="note"></label></form>
<ul id="list"></ul></body></html>`

function servePage() {
    const server = createServer((request, response) => {
        const path = new URL(request.url, 'http://127.0.0.1').pathname
        if (path === '/array.js') response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle)
        else if (path === '/') response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE)
        else response.writeHead(404).end()
    })
    return new Promise((resolve) => server.listen(Number(args['page-port']), '127.0.0.1', () => resolve(server)))
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
async function until(condition, what) {
    const deadline = Date.now() + timeoutMs
    while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
        await sleep(50)
    }
}

const report = { sdk: args.sdk, sdk_version: sdkVersion, requests: [], console: [], page_errors: [], ids: {}, products: null, error: null }

const server = await servePage()
const origin = `http://127.0.0.1:${server.address().port}`
await runDriver(report, { executablePath: args.chromium, timeoutMs, userAgent: args['user-agent'] }, async ({ context, tab }) => {
    tab.on('console', (message) => report.console.push({ type: message.type(), text: message.text() }))
    tab.on('pageerror', (error) => report.page_errors.push(String(error)))
    const toApi = (request) => request.url().startsWith(`${apiHost}/`)
    const describe = (request) => {
        const body = request.postDataBuffer()
        return {
            method: request.method(),
            url: request.url(),
            path: new URL(request.url()).pathname,
            query: new URL(request.url()).search,
            resource_type: request.resourceType(),
            content_type: request.headers()['content-type'] ?? null,
            gzip: Boolean(body && body[0] === 0x1f && body[1] === 0x8b),
            body_bytes: body ? body.length : 0,
        }
    }
    context.on('requestfinished', async (request) => {
        if (!toApi(request)) return
        const response = await request.response().catch(() => null)
        report.requests.push({ ...describe(request), status: response?.status() ?? null, failure: null })
    })
    context.on('requestfailed', (request) => {
        if (!toApi(request)) return
        report.requests.push({ ...describe(request), status: null, failure: request.failure()?.errorText ?? 'failed' })
    })
    const captured = () => report.requests.filter((r) => r.method === 'POST' && /^\/(e|i\/v0\/e|batch)\/?$/.test(r.path))

    await tab.goto(`${origin}/`, { waitUntil: 'load' })
    // The first $pageview out, and the remote config (or decide) in.
    await until(() => captured().length > 0, 'the first capture request')
    // Autocapture starts once the remote config (or decide) has said it may, which posthog-js
    // keeps as a persisted property: click after that.
    const configured = () => tab.evaluate(() => window.posthog.get_property('$autocapture_disabled_server_side') !== undefined)
    await until(configured, 'the remote config to reach autocapture')
    await tab.click('#buy')
    await tab.fill('#note', 'red, size 42')
    // A change of the page for the recorder to see.
    const addItem = (text) => tab.evaluate((text) => {
        const item = document.createElement('li')
        item.textContent = text
        document.getElementById('list').appendChild(item)
    }, text)
    if (args.record) {
        for (let i = 0; i < 5; i += 1) {
            await addItem(`pair ${i}`)
            await sleep(200)
        }
    }
    if (args.products) {
        report.products = await tab.evaluate(() => Promise.all([
            new Promise((resolve) => window.posthog.getEarlyAccessFeatures((features) => resolve(features), true)),
            new Promise((resolve) => window.posthog.getSurveys((surveys) => resolve(surveys), true)),
        ]))
    }
    report.ids.anonymous = await tab.evaluate(() => window.posthog.get_distinct_id())
    report.ids.session = await tab.evaluate(() => window.posthog.get_session_id?.() ?? null)
    if (args.cookieless) {
        // No identify: a visitor without cookies is who the server's hash says.
        const sent = captured().length
        if (args.reload) await tab.reload({ waitUntil: 'load' })
        await until(() => captured().length > sent, args.reload ? 'a capture after the reload' : 'the click to be sent')
    } else {
        await tab.evaluate((id) => window.posthog.identify(id, { plan: 'pro' }), args['distinct-id'])
        report.ids.identified = await tab.evaluate(() => window.posthog.get_distinct_id())
        const before = captured().length
        // The request queue flushes every few seconds: wait for the click and identify to leave.
        await until(() => captured().length >= before + 1, 'the queued events to be sent')
    }
    if (args.record) {
        await until(() => report.requests.some((r) => r.path.replace(/\/$/, '') === '/s' && r.status === 200), 'a recording request')
        const end = Date.now() + 1000 * Number(args['record-seconds'])
        for (let n = 0; Date.now() < end; n += 1) {
            await addItem(`more ${n}`)
            await sleep(250)
        }
    }
    for (let step = 0; step < Number(args.steps); step += 1) {
        const before = captured().length
        await tab.evaluate((step) => {
            for (let i = 0; i < 10; i += 1) window.posthog.capture('quota step', { step, i })
        }, step)
        await until(() => captured().length > before && captured().every((r) => r.status !== null || r.failure), `step ${step} to be sent`)
        await sleep(1500)
    }
    await sleep(1000)
})

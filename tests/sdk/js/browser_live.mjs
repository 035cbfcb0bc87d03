// The local stack's live events page in headless Chromium, beside a page running posthog-js at
// its defaults: the event the page captures appears in the live list without a reload, its row
// expands to its stored JSON, and the filters narrow the list.
//
//   node browser_live.mjs --api-host URL --token TOKEN --event NAME --distinct-id ID
//
// Prints one JSON line: whether the event showed, whether the live page reloaded meanwhile, the
// stored JSON its row expanded to, and the distinct ids listed once filtered by ID.

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
        event: { type: 'string' },
        'distinct-id': { type: 'string' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
        'timeout-ms': { type: 'string', default: '20000' },
    },
})
const apiHost = args['api-host'].replace(/\/$/, '')
const timeoutMs = Number(args['timeout-ms'])
const bundle = readFileSync(join(require.resolve('posthog-js/package.json'), '..', 'dist', 'array.js'))
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>shop</title><link rel="icon" href="data:,">
<script src="/array.js"></script>
<script>posthog.init(${JSON.stringify(args.token)}, { api_host: ${JSON.stringify(apiHost)}, opt_out_useragent_filter: true })</script>
</head><body><h1>Warm socks</h1></body></html>`
const report = { shown: false, reloaded: null, stored: null, filtered: null, error: null }

const server = await new Promise((resolve) => {
    const s = createServer((request, response) => {
        if (request.url === '/array.js') response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle)
        else response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE)
    })
    s.listen(0, '127.0.0.1', () => resolve(s))
})
await runDriver(report, { executablePath: args.chromium, timeoutMs }, async ({ context, tab: live }) => {
    await live.goto(`${apiHost}/_local/events`, { waitUntil: 'load' })
    await live.waitForFunction(() => /stored/.test(document.getElementById('status').textContent))
    const since = await live.evaluate(() => window.liveSince)

    const shop = await context.newPage()
    await shop.goto(`http://127.0.0.1:${server.address().port}/`, { waitUntil: 'load' })
    await shop.evaluate(([name, id]) => {
        window.posthog.identify(id)
        window.posthog.capture(name, { color: 'red' })
    }, [args.event, args['distinct-id']])

    const row = live.locator('tr.row', { has: live.locator('td.event', { hasText: args.event }) })
    await row.first().waitFor()
    report.shown = true
    report.reloaded = (await live.evaluate(() => window.liveSince)) !== since
    await row.first().click()
    const detail = live.locator('tr.detail pre').first()
    await live.waitForFunction(() => document.querySelector('tr.detail pre')?.textContent.startsWith('{'))
    report.stored = JSON.parse(await detail.textContent())

    await live.fill('input[name="distinct_id"]', args['distinct-id'])
    await live.waitForFunction((id) => {
        const cells = [...document.querySelectorAll('tr.row td:nth-child(5)')].map((td) => td.textContent)
        return cells.length > 0 && cells.every((text) => text.includes(id))
    }, args['distinct-id'])
    report.filtered = await live.evaluate(() => [...document.querySelectorAll('tr.row td:nth-child(5)')].map((td) => td.textContent))
})

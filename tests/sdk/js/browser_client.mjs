// posthog-js in headless Chromium, loaded by a page on its own origin (so every request to the API
// is cross-origin), driven by playwright-core.
//
//   node browser_client.mjs --api-host URL --token TOKEN --distinct-id ID --scenario NAME
//
// Scenarios:
//   gzip           the default: batches gzip'd and posted as text/plain by fetch
//   json           disable_compression: application/json bodies, which need a CORS preflight
//   beacon         events still queued when the page unloads leave by navigator.sendBeacon (gzip)
//   beacon-base64  the same with disable_compression: a base64 `data=` form
//
// Prints one JSON line: the events posthog-js sent (from its before_send hook), the requests to the
// API Chromium reported, console messages, page errors and the request errors posthog-js reported.
// The browser then stays open until stdin closes, so that requests still in flight (beacons, which
// outlive their page) are answered before Chromium exits.

import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { runDriver } from './browser.mjs'

const require = createRequire(import.meta.url)

const { values: args } = parseArgs({
    options: {
        'api-host': { type: 'string' },
        token: { type: 'string' },
        'distinct-id': { type: 'string' },
        scenario: { type: 'string' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
        'timeout-ms': { type: 'string', default: '15000' },
    },
})
const SCENARIOS = ['gzip', 'json', 'beacon', 'beacon-base64']
const scenario = args.scenario
const timeoutMs = Number(args['timeout-ms'])
if (!args['api-host'] || !args.token || !args['distinct-id'] || !SCENARIOS.includes(scenario)) {
    console.error(`usage: browser_client.mjs --api-host URL --token TOKEN --distinct-id ID --scenario ${SCENARIOS.join('|')}`)
    process.exit(64)
}
const apiHost = args['api-host'].replace(/\/$/, '')
const beacon = scenario.startsWith('beacon')

// The machine has no network: without these Chromium keeps calling Google's services.

const bundle = readFileSync(join(require.resolve('posthog-js/package.json'), '..', 'dist', 'array.full.js'))
const page = (title, head = '') =>
    `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>`
    + `<link rel="icon" href="data:,">${head}</head><body><h1>${title}</h1></body></html>`
const PAGES = {
    '/': page('shop', '<script src="/posthog.js"></script>'),
    '/next': page('next'),
}

function servePages() {
    const server = createServer((request, response) => {
        const path = new URL(request.url, 'http://127.0.0.1').pathname
        if (path === '/posthog.js') {
            response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle)
        } else if (PAGES[path]) {
            response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGES[path])
        } else {
            response.writeHead(404).end()
        }
    })
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

// In the page. What posthog-js sends is kept in sessionStorage: it survives the navigation of the
// beacon scenarios, and a write during `pagehide` is not lost like a message to the driver would be.
function initPostHog({ apiHost, token, compressed, flushIntervalMs }) {
    const remember = (key, item) => {
        const items = JSON.parse(sessionStorage.getItem(key) ?? '[]')
        items.push(item)
        sessionStorage.setItem(key, JSON.stringify(items))
    }
    return new Promise((resolve) => {
        window.posthog.init(token, {
            api_host: apiHost,
            // Headless Chromium says so in its user agent, and posthog-js drops bots' events.
            opt_out_useragent_filter: true,
            // These scenarios are about transports: only the events they name are sent. (At default
            // settings posthog-js is tested by browser_defaults.mjs.)
            autocapture: false,
            capture_dead_clicks: false,
            capture_heatmaps: false,
            capture_exceptions: false,
            capture_performance: false,
            disable_compression: !compressed,
            request_queue_config: { flush_interval_ms: flushIntervalMs },
            // Logs posthog-js's own warnings and errors (failed requests among them) to the console.
            debug: true,
            before_send: (event) => {
                remember('__sent', {
                    uuid: event.uuid,
                    event: event.event,
                    distinct_id: event.properties.distinct_id,
                    properties: event.properties,
                    $set: event.$set ?? null,
                    $set_once: event.$set_once ?? null,
                })
                return event
            },
            on_request_error: (response) => {
                remember('__request_errors', { statusCode: response.statusCode, text: response.text ?? null })
            },
            loaded: () => resolve(),
        })
    })
}

function captureEvents({ distinctId, scenario, identify }) {
    const run = `${scenario}-${distinctId}`
    window.posthog.capture('browser clicked', { item: 'socks', run })
    if (identify) {
        window.posthog.identify(distinctId, { email: `${distinctId}@example.com` }, { first_seen_in: scenario })
        window.posthog.capture('browser purchased', { amount: 3, currency: 'EUR', run })
    } else {
        window.posthog.capture('browser left', { reason: 'navigated away', run })
    }
}

const readRecorded = () => ({
    sent: JSON.parse(sessionStorage.getItem('__sent') ?? '[]'),
    request_errors: JSON.parse(sessionStorage.getItem('__request_errors') ?? '[]'),
})

// The uuids of the events a request carried, to tell when every sent event has been answered.
function eventUuids(request) {
    const body = request.postDataBuffer()
    if (!body) return []
    let text = (body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body).toString('utf8')
    if (text.startsWith('data=')) {
        const data = new URLSearchParams(text).get('data')
        text = /^[[{]/.test(data) ? data : Buffer.from(data, 'base64').toString('utf8')
    }
    const payload = JSON.parse(text)
    const events = Array.isArray(payload) ? payload : Array.isArray(payload.batch) ? payload.batch : [payload]
    return events.map((event) => event.uuid)
}

async function until(condition, what) {
    const deadline = Date.now() + timeoutMs
    while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
        await new Promise((resolve) => setTimeout(resolve, 25))
    }
}

const report = { scenario, page_origin: null, sent: [], requests: [], console: [], page_errors: [], request_errors: [], error: null }

const pages = await servePages()
const pageOrigin = `http://127.0.0.1:${pages.address().port}`
report.page_origin = pageOrigin
// A fresh context for every run: no cookie or storage of another.
await runDriver(report, { executablePath: args.chromium, timeoutMs }, async ({ context, tab }) => {
    tab.on('console', (message) => report.console.push({ type: message.type(), text: message.text() }))
    tab.on('pageerror', (error) => report.page_errors.push(String(error)))

    // Events whose request is over (answered, or failed: the report then says why).
    const settled = new Set()
    const toApi = (request) => request.url().startsWith(`${apiHost}/`)
    const describe = (request) => ({
        method: request.method(),
        url: request.url(),
        resource_type: request.resourceType(),
        content_type: request.headers()['content-type'] ?? null,
    })
    const settle = (request) => {
        if (request.method() !== 'POST') return
        try {
            for (const uuid of eventUuids(request)) settled.add(uuid)
        } catch (error) {
            report.error = `an unreadable request body: ${error}`
        }
    }
    context.on('requestfinished', async (request) => {
        if (!toApi(request)) return
        const response = await request.response().catch(() => null)
        report.requests.push({ ...describe(request), status: response?.status() ?? null, failure: null })
        settle(request)
    })
    context.on('requestfailed', (request) => {
        if (!toApi(request)) return
        report.requests.push({ ...describe(request), status: null, failure: request.failure()?.errorText ?? 'failed' })
        settle(request)
    })
    const allSettled = async () => {
        const { sent } = await tab.evaluate(readRecorded)
        return sent.length > 0 && sent.every((event) => settled.has(event.uuid))
    }

    await tab.goto(`${pageOrigin}/`, { waitUntil: 'load' })
    await tab.evaluate(initPostHog, {
        apiHost,
        token: args.token,
        compressed: scenario === 'gzip' || scenario === 'beacon',
        // Short for the direct paths; for the beacon paths longer than the page lives, so the
        // events are still queued when it unloads.
        flushIntervalMs: beacon ? 5000 : 250,
    })
    // The initial $pageview leaves at once; wait for its answer, or the navigation below
    // would abort it and posthog-js would rightly send it again by beacon.
    await until(allSettled, 'the $pageview to be answered')
    await tab.evaluate(captureEvents, { distinctId: args['distinct-id'], scenario, identify: !beacon })
    if (beacon) {
        // posthog-js hands what is still queued (and a $pageleave) to sendBeacon on `pagehide`.
        await tab.goto(`${pageOrigin}/next`, { waitUntil: 'load' })
    } else {
        await until(allSettled, 'every event to be answered')
    }
    Object.assign(report, await tab.evaluate(readRecorded))
})

// posthog-node as a server application would use it: capture, identify, alias, group identify,
// flush, shutdown. With POSTHOG_CAPTURE_MODE=v1 in its environment it sends capture v1.
//
//   node node_client.mjs --host URL --token TOKEN --distinct-id ID [--disable-compression]
//
// Prints one JSON line: the events the SDK queued (with the uuid it gave each), the events it
// reported as flushed, every HTTP exchange it made, and every error it reported.

import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { PostHog } from 'posthog-node'

const { values: args } = parseArgs({
    options: {
        host: { type: 'string' },
        token: { type: 'string' },
        'distinct-id': { type: 'string' },
        'disable-compression': { type: 'boolean', default: false },
        'timeout-ms': { type: 'string', default: '10000' },
    },
})
if (!args.host || !args.token || !args['distinct-id']) {
    console.error('usage: node_client.mjs --host URL --token TOKEN --distinct-id ID [--disable-compression]')
    process.exit(64)
}
const timeoutMs = Number(args['timeout-ms'])
const distinctId = args['distinct-id']

const report = {
    version: null,
    options: { disableCompression: args['disable-compression'] },
    queued: [],
    flushed: [],
    requests: [],
    errors: [],
    logs: [],
    error: null,
}

// The SDK's debug output goes to the console: keep it out of stdout, which carries the report.
for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
    console[level] = (...parts) => {
        const text = parts.map((part) => (typeof part === 'string' ? part : safeJson(part))).join(' ')
        report.logs.push({ level, text })
        process.stderr.write(`${level}: ${text}\n`)
    }
}

function safeJson(value) {
    try {
        return value instanceof Error ? String(value.stack ?? value) : JSON.stringify(value)
    } catch {
        return String(value)
    }
}

// Every request the SDK makes, as it made it, and the answer it got.
async function recordingFetch(url, options) {
    const headers = Object.fromEntries(new Headers(options?.headers ?? {}))
    const exchange = { method: options?.method ?? 'GET', url: String(url), headers, status: null, body: null, failure: null }
    report.requests.push(exchange)
    try {
        const response = await fetch(url, options)
        exchange.status = response.status
        exchange.body = await response.clone().text()
        return response
    } catch (error) {
        exchange.failure = String(error)
        throw error
    }
}

const client = new PostHog(args.token, {
    host: args.host,
    disableCompression: args['disable-compression'],
    fetch: recordingFetch,
    // Nothing leaves before flush() or shutdown(): the test sees the SDK's batches, not a timer's.
    flushAt: 100,
    flushInterval: 0,
    fetchRetryCount: 0,
    requestTimeout: timeoutMs,
})
client.debug(true)
report.version = client.getLibraryVersion()
client.on('capture', (message) => report.queued.push(message))
client.on('identify', (message) => report.queued.push(message))
client.on('flush', (messages) => report.flushed.push(...messages))
client.on('error', (error) => report.errors.push(safeJson(error)))

// Nothing may hang: whatever happens, the process ends, and says how far it got.
setTimeout(() => {
    report.error = `gave up after ${3 * timeoutMs} ms`
    process.stdout.write(JSON.stringify(report) + '\n')
    process.exit(2)
}, 3 * timeoutMs).unref()

const compression = args['disable-compression'] ? 'json' : 'gzip'
try {
    client.capture({
        distinctId,
        event: 'node signed up',
        properties: { plan: 'pro', seats: 3, compression },
        uuid: randomUUID(),
    })
    client.identify({
        distinctId,
        properties: { email: `${distinctId}@example.com`, $set_once: { first_seen_by: 'posthog-node' } },
    })
    client.alias({ distinctId, alias: `${distinctId}-alias` })
    client.groupIdentify({ groupType: 'company', groupKey: `acme-${distinctId}`, properties: { name: 'Acme' }, distinctId })
    await client.flush()
    // Left in the queue for shutdown() to send.
    client.capture({
        distinctId,
        event: 'node upgraded',
        properties: { plan: 'enterprise', compression },
        uuid: randomUUID(),
    })
} catch (error) {
    report.error = safeJson(error)
} finally {
    await client.shutdown(timeoutMs)
}
process.stdout.write(JSON.stringify(report) + '\n')

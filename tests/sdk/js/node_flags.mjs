// posthog-node at its default settings (only the host changed), asking for feature flags the way
// a server application does, then capturing with them.
//
//   node node_flags.mjs --host URL --token TOKEN --distinct-id ID [--personal-api-key KEY]
//
// With a personal API key, posthog-node polls the flag definitions for local evaluation.
//
// Prints one JSON line: each flag call's answer, the uuids it captured, and everything the SDK
// wrote to the console.

import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { PostHog } from 'posthog-node'

const { values: args } = parseArgs({
    options: {
        host: { type: 'string' },
        token: { type: 'string' },
        'distinct-id': { type: 'string' },
        'personal-api-key': { type: 'string' },
    },
})
const distinctId = args['distinct-id']
const report = { answers: {}, captured: [], logs: [], error: null }

for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
    console[level] = (...parts) => {
        report.logs.push({ level, text: parts.map((part) => String(part?.stack ?? part)).join(' ') })
    }
}

setTimeout(() => {
    report.error = 'gave up after 30 s'
    process.stdout.write(JSON.stringify(report) + '\n')
    process.exit(2)
}, 30_000).unref()

const options = args['personal-api-key'] ? { host: args.host, personalApiKey: args['personal-api-key'] } : { host: args.host }
const client = new PostHog(args.token, options)
try {
    if (args['personal-api-key']) await client.reloadFeatureFlags()
    report.answers.getFeatureFlag = (await client.getFeatureFlag('new-checkout', distinctId)) ?? null
    report.answers.isFeatureEnabled = (await client.isFeatureEnabled('new-checkout', distinctId)) ?? null
    report.answers.getAllFlags = await client.getAllFlags(distinctId)
    const flags = await client.evaluateFlags(distinctId)
    report.answers.evaluateFlags = { enabled: flags.isEnabled('new-checkout'), flag: flags.getFlag('new-checkout') ?? null }
    for (const [event, options] of [
        ['node sent flags', { sendFeatureFlags: true }],
        ['node evaluated', { flags }],
    ]) {
        const uuid = randomUUID()
        client.capture({ distinctId, event, uuid, ...options })
        report.captured.push(uuid)
    }
} catch (error) {
    report.error = String(error?.stack ?? error)
} finally {
    await client.shutdown(10_000)
}
process.stdout.write(JSON.stringify(report) + '\n')

// posthog-node at its DEFAULT settings (only `host` is set), sending in steps: STEPS times, it
// captures PER_STEP events, flushes, and waits PAUSE_MS, so that what the server decides after one
// step (a quota reached) is in force for the next.
//
//   node node_steps.mjs --host URL --token TOKEN --distinct-id ID [--steps 7] [--per-step 10] [--pause-ms 1500]
//
// Prints one JSON line: the uuids sent per step, every error the SDK reported (its `error` event)
// and every line it wrote to the console.

import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { PostHog } from 'posthog-node'

const { values: args } = parseArgs({
    options: {
        host: { type: 'string' },
        token: { type: 'string' },
        'distinct-id': { type: 'string' },
        steps: { type: 'string', default: '7' },
        'per-step': { type: 'string', default: '10' },
        'pause-ms': { type: 'string', default: '1500' },
    },
})
if (!args.host || !args.token || !args['distinct-id']) {
    console.error('usage: node_steps.mjs --host URL --token TOKEN --distinct-id ID [--steps N] [--per-step N] [--pause-ms MS]')
    process.exit(64)
}
const report = { steps: [], errors: [], logs: [], error: null }
for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
    console[level] = (...parts) => report.logs.push({ level, text: parts.map(String).join(' ') })
}
setTimeout(() => {
    report.error = 'gave up after 60 s'
    process.stdout.write(JSON.stringify(report) + '\n')
    process.exit(2)
}, 60000).unref()

const client = new PostHog(args.token, { host: args.host })
client.on('error', (error) => report.errors.push(String(error?.stack ?? error)))
try {
    for (let step = 0; step < Number(args.steps); step += 1) {
        const uuids = []
        for (let i = 0; i < Number(args['per-step']); i += 1) {
            const uuid = randomUUID()
            uuids.push(uuid)
            client.capture({ distinctId: args['distinct-id'], event: 'node step', properties: { step, i }, uuid })
        }
        await client.flush()
        report.steps.push(uuids)
        await new Promise((resolve) => setTimeout(resolve, Number(args['pause-ms'])))
    }
} catch (error) {
    report.error = String(error?.stack ?? error)
} finally {
    await client.shutdown()
}
process.stdout.write(JSON.stringify(report) + '\n')
process.exit(0)

// One headless Chromium for a whole test session: prints its WebSocket endpoint on one line, which
// the drivers connect to (CAPTURE_BROWSER_WS), and closes it when stdin closes.
//
//   node browser_server.mjs [--chromium /usr/bin/chromium]

import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS } from './browser.mjs'

const { values: args } = parseArgs({ options: { chromium: { type: 'string', default: '/usr/bin/chromium' } } })
const server = await chromium.launchServer({ executablePath: args.chromium, headless: true, args: CHROMIUM_ARGS })
process.stdout.write(server.wsEndpoint() + '\n')
await new Promise((resolve) => process.stdin.on('end', resolve).on('error', resolve).resume())
await server.close()
process.exit(0)

#!/usr/bin/env node
// The wa-bridge command. The sources are TypeScript; tsx compiles them on load, so the command
// works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/index.ts');
await main(process.argv);

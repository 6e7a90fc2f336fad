#!/usr/bin/env node
// The wa-bridge command. The sources are TypeScript; tsx compiles them on load, so the command
// works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
// parse-export (called by other tools once per file) and import (long, memory-bound) load what
// they need alone, not the server.
const light = { 'parse-export': '../src/cli/parse-export-entry.ts', import: '../src/cli/import-entry.ts' };
const entry = light[process.argv[2]] ?? '../src/cli/index.ts';
const { main } = await import(entry);
await main(process.argv);

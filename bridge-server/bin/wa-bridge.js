#!/usr/bin/env node
// The wa-bridge command. The sources are TypeScript; tsx compiles them on load, so the command
// works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
// parse-export is called by other tools once per file: it loads the parser alone, not the server.
const entry = process.argv[2] === 'parse-export' ? '../src/cli/parse-export-entry.ts' : '../src/cli/index.ts';
const { main } = await import(entry);
await main(process.argv);

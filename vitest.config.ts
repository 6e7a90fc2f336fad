import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; integration and end-to-end suites live in tests/.
// Suites that start real servers (mail stack, Chromium) run one file at a time per worker,
// and files run in parallel only up to the two cores this project is built for.
export default defineConfig({
  test: {
    include: ['bridge-server/src/**/*.test.ts', 'shared/src/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    reporters: ['default', './tests/support/summary-reporter.ts'],
    // The browser suites need the add-in and Teams tab bundles; builds them when sources changed.
    globalSetup: ['./tests/support/ui-build.ts'],
  },
});

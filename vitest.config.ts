import { randomBytes } from 'node:crypto';
import { configDefaults, defineConfig } from 'vitest/config';

// Names this run's PostgreSQL databases (tests/support/test-database.ts); workers inherit it.
process.env.WA_BRIDGE_TEST_RUN ??= randomBytes(4).toString('hex');

// Unit tests sit beside the code; integration and end-to-end suites live in tests/.
// Suites that start real servers (mail stack, Chromium) run one file at a time per worker,
// and files run in parallel only up to the two cores this project is built for.
// The integration suites run twice: on the embedded SQLite store and on PostgreSQL.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    // A worker runs one test file after another in the same process, keeping the modules it
    // loaded: each file imported the bridge's whole module graph afresh, some 2.5-3 s of CPU per
    // integration file, more than many of them spend in their tests. So a test file must undo what
    // it changes outside its own objects (process.env, process.exitCode, fake timers, servers), as
    // import.test.ts and export-fuzz.test.ts do with the environment.
    isolate: false,
    reporters: ['default', './tests/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['bridge-server/src/**/*.test.ts', 'shared/src/**/*.test.ts', 'tests/**/*.test.ts'],
          // Suites about several instances sharing one database exist only on PostgreSQL.
          exclude: [...configDefaults.exclude, 'tests/postgres/**'],
          // The browser suites need the add-in and Teams tab bundles; builds them when sources changed.
          globalSetup: ['./tests/support/ui-build.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['tests/integration/**/*.test.ts', 'tests/postgres/**/*.test.ts'],
          // Suites that never touch the store: the manifests and the mail stack itself.
          exclude: [...configDefaults.exclude, 'tests/integration/manifests.test.ts', 'tests/integration/mail-stack.test.ts'],
          env: { WA_BRIDGE_TEST_DATABASE: 'postgres' },
          globalSetup: ['./tests/support/postgres-setup.ts'],
        },
      },
    ],
  },
});

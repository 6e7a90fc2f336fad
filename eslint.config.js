import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Dependencies point one way: core <- flows <- adapters <- app.ts. Each zone below turns a
// wrong-way import into a lint error, so the layering holds without review.
const adapters = ['channels', 'mail', 'store', 'outbox', 'archive', 'api', 'auth', 'cli', 'ops', 'config', 'sandbox'];
const drivers = ['express', 'better-sqlite3', 'kysely', 'pg', 'nodemailer', 'smtp-server', 'mailparser', 'pino', 'prom-client', 'commander'];

const layer = (files, forbiddenFolders, forbiddenPackages, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: forbiddenPackages.map((name) => ({ name, message: why })),
        patterns: [
          { regex: `(^|/)(${forbiddenFolders.join('|')})/`, message: why },
          ...forbiddenPackages.map((name) => ({ regex: `^${name}/`, message: why })),
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.build/**', 'data/**', 'bench/.work/**', '**/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'No barrel re-exports: import from the defining file.' }],
    },
  },
  layer(
    ['bridge-server/src/core/**/*.ts'],
    ['flows', 'app', ...adapters],
    drivers,
    'core/ is the domain: standard library, zod and @wa-bridge/shared only.',
  ),
  layer(
    ['bridge-server/src/flows/**/*.ts'],
    ['app', ...adapters],
    drivers,
    'flows/ use core/ and reach the world only through the ports in core/ports.ts.',
  ),
);

import { Option, type Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { rawConfigSchema, settings } from '../config/schema.js';
import { describeLocation } from '../store/db.js';
import { runCommand } from './run.js';

/** Prints the settings reference (README table, .env.example) from the one schema, or checks a setup. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('Show or check the configuration.');
  config
    .command('check')
    .description('Validate the environment (and config file); prints one line per problem.')
    .option('-c, --config <file>', 'JSON config file')
    .action((options: { config?: string }) =>
      runCommand(async () => {
        const loaded = loadConfig(process.env, options.config ?? process.env.WA_BRIDGE_CONFIG);
        process.stdout.write(`configuration OK (${loaded.sandbox ? 'sandbox' : 'live'}; database ${describeLocation(loaded.database)})\n`);
      }),
    );
  config
    .command('docs')
    .description('Print every setting as a Markdown table (--format md) or as a .env example (--format env).')
    .addOption(new Option('--format <format>', 'md or env').choices(['md', 'env']).default('md'))
    .action((options: { format: string }) =>
      runCommand(async () => {
        process.stdout.write(options.format === 'env' ? envExample() : markdownTable());
      }),
    );
}

function defaultOf(key: string): string {
  const parsed = rawConfigSchema.safeParse({});
  const value = parsed.success ? (parsed.data as Record<string, unknown>)[key] : undefined;
  return value === undefined ? '' : String(value);
}

export function markdownTable(): string {
  // A | in a description would end its cell.
  const rows = settings.map((s) => `| \`${s.env}\` | ${defaultOf(s.key) ? `\`${defaultOf(s.key)}\`` : ''} | ${s.doc.replaceAll('|', '\\|')} |`);
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows, ''].join('\n');
}

export function envExample(): string {
  return settings.map((s) => `# ${s.doc}\n${s.secret || !defaultOf(s.key) ? '# ' : ''}${s.env}=${s.secret ? '' : defaultOf(s.key)}\n`).join('\n');
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envExample, markdownTable } from './config.js';
import { settings } from '../config/schema.js';

describe('settings reference', () => {
  it('README.md carries the settings table exactly as the schema generates it', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(markdownTable().trim());
  });

  it('.env.example is exactly what the schema generates', () => {
    const example = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
    expect(example).toBe(envExample());
  });

  it('documents every setting once, with its variable name', () => {
    const envs = settings.map((s) => s.env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const env of envs) expect(envExample()).toContain(`${env}=`);
  });

  it('never prints a default for a secret in the .env example', () => {
    for (const s of settings.filter((x) => x.secret)) expect(envExample()).toContain(`# ${s.env}=\n`);
  });
});

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('log redaction', () => {
  it('keeps message content and the client’s phone number out of log lines, and ids in', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('info', sink);
    logger.info({ waMessageId: 'wamid.kept', message: { from: '447700900123', body: 'my divorce papers', name: 'Jane Smith' }, client: { waId: '447700900123', phone: '+44 7700 900123' }, clientWaId: '447700900123' }, 'stored');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toContain('wamid.kept');
    for (const secret of ['447700900123', '7700 900123', 'divorce', 'Jane Smith']) expect(line).not.toContain(secret);
    expect(JSON.parse(line)).toMatchObject({ message: { from: '[redacted]', body: '[redacted]', name: '[redacted]' }, client: { waId: '[redacted]', phone: '[redacted]' }, clientWaId: '[redacted]' });
  });
});

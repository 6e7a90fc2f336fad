import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { componentLogger, createLogger, redactPhoneNumbers } from './logger.js';

function capture(): { lines: string[]; sink: Writable } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, sink };
}

describe('log redaction', () => {
  it('keeps message content and the client’s phone number out of log lines, and ids in', () => {
    const { lines, sink } = capture();
    const logger = createLogger('info', sink);
    logger.info({ waMessageId: 'wamid.kept', message: { from: '447700900123', body: 'my divorce papers', name: 'Jane Smith' }, client: { waId: '447700900123', phone: '+44 7700 900123' }, clientWaId: '447700900123' }, 'stored');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toContain('wamid.kept');
    for (const secret of ['447700900123', '7700 900123', 'divorce', 'Jane Smith']) expect(line).not.toContain(secret);
    expect(JSON.parse(line)).toMatchObject({ message: { from: '[redacted]', body: '[redacted]', name: '[redacted]' }, client: { waId: '[redacted]', phone: '[redacted]' }, clientWaId: '[redacted]' });
  });
});

describe('phone numbers in texts', () => {
  const numbers = ['447700900123', '7700 900123', '4155550100', '555-0100'];

  it('takes them out of messages, nested fields and errors, wherever no field name gives them away', () => {
    const { lines, sink } = capture();
    // Through a component's logger, as the app logs.
    const logger = componentLogger(createLogger('info', sink), 'whatsapp-web');
    const error = new Error('Evaluation failed: no chat 447700900123@c.us (also known as 12036302233@lid)');
    logger.error(
      { chatId: '447700900123@c.us', waMessageId: 'false_447700900123@c.us_3EB0C767D82B1B6F', job: { payload: { target: { who: '+44 7700 900123' } } }, err: error, note: 'call +1 (415) 555-0100 or 4155550100' },
      'catch-up of 447700900123@s.whatsapp.net failed',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    for (const number of numbers) expect(line).not.toContain(number);
    expect(line).not.toContain('12036302233');
    const parsed = JSON.parse(line) as Record<string, unknown> & { err: { message: string; stack: string }; job: { payload: { target: { who: string } } } };
    expect(parsed.component).toBe('whatsapp-web');
    expect(parsed.chatId).toBe('[redacted]@c.us');
    // A WhatsApp Web message id keeps what tells it apart, without the number.
    expect(parsed.waMessageId).toBe('false_[redacted]@c.us_3EB0C767D82B1B6F');
    expect(parsed.msg).toBe('catch-up of [redacted]@s.whatsapp.net failed');
    expect(parsed.job.payload.target.who).toBe('[redacted]');
    expect(parsed.note).toBe('call [redacted] or [redacted]');
    expect(parsed.err.message).toBe('Evaluation failed: no chat [redacted]@c.us (also known as [redacted]@lid)');
    expect(parsed.err.stack).toContain('[redacted]@c.us');
  });

  it('leaves ids, hashes, times and numbers that are not phone numbers as they were', () => {
    const { lines, sink } = capture();
    const logger = createLogger('info', sink);
    const fields = {
      waMessageId: 'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhggQjE4RjQ5MDk1NzUyQTQxQjU0NjQxRDg3NDc1AA==',
      mailMessageId: 'm.mmk7ebkxh3gq3cxzh72z434k73@wa.firm.example',
      // Other mailers' Message-IDs whose digits-only groups are as long as a phone number.
      inReplyTo: '5d2c1a4e-1b2c-4d5e-8f90-123456789012@firm.example',
      references: 'dsn-123456789012@firm.example 1732700000000.12345@mail.example',
      sha256: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      at: '2026-11-27T07:45:17.258+00:00',
      bytes: 12345678901,
      conversationId: 42,
      jobId: 1234567,
    };
    logger.info(fields, 'relayed job 1234567 at 2026-11-27 07:45:17');
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(parsed).toMatchObject({ ...fields, msg: 'relayed job 1234567 at 2026-11-27 07:45:17' });
  });

  it('keeps a line valid JSON whatever its texts hold', () => {
    const line = JSON.stringify({ a: 'quote " and \\ then 447700900123', n: 447700900123, b: ['+44 7700 900123'], c: 'ends a sentence: 447700900123.' });
    expect(JSON.parse(redactPhoneNumbers(line))).toEqual({ a: 'quote " and \\ then [redacted]', n: 447700900123, b: ['[redacted]'], c: 'ends a sentence: [redacted].' });
  });
});

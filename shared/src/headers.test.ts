import { describe, expect, it } from 'vitest';
import { chatIdFromHeaders, waMessageIdFromHeaders } from './headers.js';

describe('chatIdFromHeaders', () => {
  it('finds the chat id in a raw header block regardless of case and folding', () => {
    const raw = 'Subject: WhatsApp · Jane\r\nx-whatsapp-chat-id:\r\n  i5y2nbfbf6hblfu5dt67phhq27\r\nFrom: a@b.test\r\n';
    expect(chatIdFromHeaders(raw)).toBe('i5y2nbfbf6hblfu5dt67phhq27');
  });

  it('ignores a header that is absent or not a chat id', () => {
    expect(chatIdFromHeaders('Subject: hello\r\n')).toBeUndefined();
    expect(chatIdFromHeaders('X-WhatsApp-Chat-Id: ../../etc/passwd\r\n')).toBeUndefined();
  });
});

describe('waMessageIdFromHeaders', () => {
  it('reads the message id of a mirrored mail, folded or not, and nothing from a cover mail', () => {
    expect(waMessageIdFromHeaders('X-WhatsApp-Chat-Id: i5y2nbfbf6hblfu5dt67phhq27\r\nx-whatsapp-message-id:\r\n wamid.HBgLNDQ3NzAwOTAwMTIzFQIAEhgg=\r\n')).toBe('wamid.HBgLNDQ3NzAwOTAwMTIzFQIAEhgg=');
    expect(waMessageIdFromHeaders('X-WhatsApp-Chat-Id: i5y2nbfbf6hblfu5dt67phhq27\r\nX-WhatsApp-Event: conversation-opened\r\n')).toBeUndefined();
  });

  it('takes no value with spaces, control characters or too long', () => {
    expect(waMessageIdFromHeaders('X-WhatsApp-Message-Id: wamid.a b\r\n')).toBeUndefined();
    expect(waMessageIdFromHeaders(`X-WhatsApp-Message-Id: ${'a'.repeat(257)}\r\n`)).toBeUndefined();
    expect(waMessageIdFromHeaders('X-WhatsApp-Message-Id: wamid.\u0000x\r\n')).toBeUndefined();
  });
});

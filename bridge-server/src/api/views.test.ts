import { describe, expect, it } from 'vitest';
import { contentText, toWindowState } from './views.js';

const hour = 3600_000;
const templates = [{ name: 'case_update', language: 'en_GB' }];

describe('24-hour window state', () => {
  it('is open until 24 hours after the last client message, then closed', () => {
    const last = Date.UTC(2026, 10, 25, 9, 0, 0);
    expect(toWindowState('cloud-api', last, last + 23 * hour, templates)).toEqual({
      state: 'open',
      closesAt: '2026-11-26T09:00:00.000Z',
      lastInboundAt: '2026-11-25T09:00:00.000Z',
      templates,
    });
    expect(toWindowState('cloud-api', last, last + 24 * hour, templates).state).toBe('closed');
  });

  it('is closed before the client ever wrote, and does not apply to whatsapp-web', () => {
    expect(toWindowState('cloud-api', null, 0, [])).toMatchObject({ state: 'closed', closesAt: null });
    expect(toWindowState('whatsapp-web', null, 0, []).state).toBe('not_applicable');
  });
});

describe('bubble text', () => {
  it('shows bodies and captions as sent, and other content as a readable line', () => {
    expect(contentText({ type: 'text', body: 'Hello 👋' })).toBe('Hello 👋');
    expect(contentText({ type: 'image', media: { waMediaId: 'm', mimeType: 'image/jpeg', caption: 'the wall' } })).toBe('the wall');
    expect(contentText({ type: 'image', media: { waMediaId: 'm', mimeType: 'image/jpeg' } })).toBeNull();
    expect(contentText({ type: 'location', latitude: 51.5, longitude: -0.12, name: 'Office' })).toContain('Office');
  });
});

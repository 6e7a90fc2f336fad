/**
 * A stand-in for office.js in an Outlook read form, served in place of the real file: only the
 * host boundary is fake. It follows the documented shapes: `Office.onReady()` resolves
 * `{ host: 'Outlook', platform }`, `item.getAllInternetHeadersAsync(callback)` calls back with an
 * AsyncResult `{ status, value }`, `mailbox.addHandlerAsync(EventType.ItemChanged, handler)` keeps
 * the handler, `Office.auth.getAccessToken` resolves `ssoToken` when given, else rejects as it
 * does without an SSO registration (error 13000, "not supported"), and `officeTheme` reports the
 * host's body colour (dark in a dark Outlook). `window.__office.selectMail(headers)` plays the user choosing
 * another mail in a pinned pane.
 */
export function officeStub(mail: { subject: string; headers: string }, host: { ssoToken?: string; bodyBackgroundColor?: string } = {}): string {
  const { ssoToken, bodyBackgroundColor = '#ffffff' } = host;
  return `(() => {
  const handlers = [];
  const item = (mail) => ({
    itemType: 'message',
    subject: mail.subject,
    internetMessageId: '<stub@firm.test>',
    getAllInternetHeadersAsync(callback) {
      setTimeout(() => callback({ status: 'succeeded', value: mail.headers }), 5);
    },
  });
  const mailbox = {
    item: item(${JSON.stringify(mail)}),
    addHandlerAsync(type, handler, callback) {
      if (type === 'olkItemSelectedChanged') handlers.push(handler);
      callback?.({ status: 'succeeded' });
    },
  };
  window.Office = {
    HostType: { Outlook: 'Outlook' },
    PlatformType: { OfficeOnline: 'OfficeOnline' },
    AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
    EventType: { ItemChanged: 'olkItemSelectedChanged' },
    onReady(callback) {
      const info = { host: 'Outlook', platform: 'OfficeOnline' };
      callback?.(info);
      return Promise.resolve(info);
    },
    context: {
      mailbox,
      requirements: { isSetSupported: (name, version) => name === 'Mailbox' && Number(version) <= 1.8 },
      officeTheme: { bodyBackgroundColor: ${JSON.stringify(bodyBackgroundColor)} },
    },
    auth: {
      getAccessToken: () => ${ssoToken ? `Promise.resolve(${JSON.stringify(ssoToken)})` : "Promise.reject(Object.assign(new Error('SSO is not supported in this host.'), { code: 13000 }))"},
    },
  };
  window.__office = {
    selectMail(next) {
      mailbox.item = item(next);
      for (const handler of handlers) handler({ type: 'olkItemSelectedChanged' });
    },
  };
})();`;
}

/** The header block Outlook hands back for a mail the bridge mirrored (plus ordinary headers). */
export function mirroredHeaders(chatId: string, subject: string): string {
  return [
    'Received: from bridge.firm.test by mx.firm.test; Mon, 4 May 2026 10:00:00 +0000',
    `Subject: ${subject}`,
    'From: "Jane Smith via WhatsApp" <wa@firm.test>',
    `X-WhatsApp-Chat-Id: ${chatId}`,
    'X-WhatsApp-Direction: inbound',
    'Auto-Submitted: auto-generated',
    '',
  ].join('\r\n');
}

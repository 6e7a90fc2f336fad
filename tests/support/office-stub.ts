/**
 * The broker end of nested app authentication as an Outlook that supports it exposes it to the
 * page: `window.nestedAppAuthBridge` with `postMessage(string)` and
 * `addEventListener('message', callback)` / `removeEventListener` (MSAL browser's AuthBridge).
 * MSAL posts JSON request envelopes (`messageType: 'NestedAppAuthRequest'`, `method`
 * GetInitContext, GetToken or GetTokenPopup, `requestId`, `tokenParams`) and waits for a
 * response envelope with the same `requestId`. Here the host's answer comes from the test, through
 * `window.__naaHost(message)` (a function the test exposes to the page; see naa-host.ts), and is
 * delivered to the listeners a moment later, as the real host does.
 */
const nestedAppAuthBridgeScript = `
  const naaListeners = new Set();
  window.nestedAppAuthBridge = {
    addEventListener(eventName, callback) {
      if (eventName === 'message') naaListeners.add(callback);
    },
    removeEventListener(eventName, callback) {
      naaListeners.delete(callback);
    },
    postMessage(message) {
      window.__naaHost(message).then((response) => {
        for (const listener of naaListeners) listener(response);
      });
    },
  };`;

/**
 * A stand-in for office.js in an Outlook read form, served in place of the real file: only the
 * host boundary is fake. It follows the documented shapes: `Office.onReady()` resolves
 * `{ host: 'Outlook', platform }`, `item.getAllInternetHeadersAsync(callback)` calls back with an
 * AsyncResult `{ status, value }`, `mailbox.addHandlerAsync(EventType.ItemChanged, handler)` keeps
 * the handler, `Office.auth.getAccessToken` resolves `ssoToken` when given, else rejects as it
 * does without an SSO registration (error 13000, "not supported"), and `officeTheme` reports the
 * host's body colour (dark in a dark Outlook). `window.__office.selectMail(headers)` plays the user choosing
 * another mail in a pinned pane; `window.__office.ssoCalls` counts the SSO token requests. With
 * `nestedAppAuth`, the host reports the NestedAppAuth 1.1 requirement set and offers the broker
 * above.
 */
export function officeStub(mail: { subject: string; headers: string }, host: { ssoToken?: string; bodyBackgroundColor?: string; nestedAppAuth?: boolean } = {}): string {
  const { ssoToken, bodyBackgroundColor = '#ffffff', nestedAppAuth = false } = host;
  return `(() => {
  const handlers = [];
  let ssoCalls = 0;${nestedAppAuth ? nestedAppAuthBridgeScript : ''}
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
      requirements: {
        isSetSupported: (name, version) => (name === 'Mailbox' && Number(version) <= 1.8) || (${nestedAppAuth} && name === 'NestedAppAuth' && Number(version) <= 1.1),
      },
      officeTheme: { bodyBackgroundColor: ${JSON.stringify(bodyBackgroundColor)} },
    },
    auth: {
      getAccessToken: () => (ssoCalls += 1, ${ssoToken ? `Promise.resolve(${JSON.stringify(ssoToken)})` : "Promise.reject(Object.assign(new Error('SSO is not supported in this host.'), { code: 13000 }))"}),
    },
  };
  window.__office = {
    get ssoCalls() {
      return ssoCalls;
    },
    selectMail(next) {
      mailbox.item = item(next);
      for (const handler of handlers) handler({ type: 'olkItemSelectedChanged' });
    },
  };
})();`;
}

/** The header block Outlook hands back for a mail the bridge mirrored (plus ordinary headers). */
export function mirroredHeaders(chatId: string, subject: string, waMessageId?: string): string {
  return [
    'Received: from bridge.firm.test by mx.firm.test; Mon, 4 May 2026 10:00:00 +0000',
    `Subject: ${subject}`,
    'From: "Jane Smith via WhatsApp" <wa@firm.test>',
    `X-WhatsApp-Chat-Id: ${chatId}`,
    ...(waMessageId ? [`X-WhatsApp-Message-Id: ${waMessageId}`] : []),
    'X-WhatsApp-Direction: inbound',
    'Auto-Submitted: auto-generated',
    '',
  ].join('\r\n');
}

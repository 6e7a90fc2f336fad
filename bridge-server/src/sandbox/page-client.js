/* global document, window, fetch, EventSource, FileReader */
// The sandbox page's script, inlined into page.ts's HTML (its hash is in the page's CSP).
// Plain browser JavaScript with no build step. Mail data only ever reaches the DOM through
// textContent, attributes and the sandboxed iframe's srcdoc, never through innerHTML.
'use strict';

const base = document.body.dataset.base || '/sandbox';
const maxFileBytes = 16 * 1024 * 1024;
const mails = new Map();
const mailNodes = new Map();
const threadNodes = new Map();
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

const $ = (id) => document.getElementById(id);

function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'className') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children || []) if (child) node.append(child);
  return node;
}

function formatBytes(size) {
  if (size < 1024) return size + ' bytes';
  if (size < 1024 * 1024) return (size / 1024).toFixed(1) + ' KB';
  return (size / 1024 / 1024).toFixed(1) + ' MB';
}

function formatDate(iso) {
  if (!iso) return 'no date';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

/* ---------- client's phone ---------- */

const form = $('composer');
const fields = { name: $('name'), phone: $('phone'), text: $('text'), file: $('file') };
const formError = $('form-error');
const sendButton = $('send');
const sendStatus = $('send-status');

function clearErrors() {
  formError.hidden = true;
  formError.replaceChildren();
  for (const [key, input] of Object.entries(fields)) {
    input.removeAttribute('aria-invalid');
    const message = $(key + '-error');
    message.textContent = '';
    message.hidden = true;
  }
}

/* The top-level name in an issue's path ("file.dataBase64" → "file"). */
function pathKey(issue) {
  return String(issue.path).split(/[.[]/)[0];
}

/* The field an issue's path names, spoken of by its label rather than the API's own name for it. */
function fieldOf(issue) {
  const key = pathKey(issue);
  return fields[key] ? key : undefined;
}

function labelOf(key) {
  const label = document.querySelector('label[for="' + key + '"]');
  return label ? label.textContent.replace(/\s*\(.*\)$/, '') : key;
}

function showProblem(detail, errors) {
  formError.replaceChildren(el('p', { text: detail }));
  let first;
  if (errors && errors.length > 0) {
    formError.append(el('ul', {}, errors.map((issue) => {
      const key = fieldOf(issue);
      return el('li', { text: (key ? labelOf(key) : String(issue.path)) + ': ' + issue.message });
    })));
    for (const issue of errors) {
      const key = fieldOf(issue);
      if (!key) continue;
      first ??= fields[key];
      fields[key].setAttribute('aria-invalid', 'true');
      const message = $(key + '-error');
      message.textContent = message.textContent ? message.textContent + ' ' + issue.message : issue.message;
      message.hidden = false;
    }
  }
  formError.hidden = false;
  if (first) first.focus();
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error || new Error('The file could not be read.'));
    reader.readAsDataURL(file);
  });
}

/*
 * A photo or sticker, shown as the phone shows it: the picture from the simulator (sent since the
 * start) or from the archive (before it). Should it not be there (a retention run deleting it,
 * say), it is asked for again a few times before the bubble says so.
 */
const pictureTries = 8;

function picture(message) {
  const url = base + '/api/phone/pictures/' + encodeURIComponent(message.waMessageId);
  const img = el('img', { className: 'bubble-picture', alt: message.type === 'sticker' ? 'Sticker' : 'Photo', src: url, 'data-state': 'loading' });
  let tries = 1;
  img.addEventListener('load', () => {
    img.dataset.state = 'shown';
  });
  img.addEventListener('error', () => {
    if (tries >= pictureTries) {
      img.replaceWith(el('p', { className: 'bubble-file', text: img.alt + ' (not available)' }));
      return;
    }
    window.setTimeout(() => {
      img.src = url + '?try=' + tries;
      tries += 1;
    }, 300 * tries);
  });
  return img;
}

/* The client's messages come from the server, so a reload still shows them; newest first. */
const sentList = $('sent');
const sentNodes = new Map();

function renderSent(messages) {
  const nodes = messages.slice().reverse().map((message) => {
    let node = sentNodes.get(message.waMessageId);
    if (!node) {
      node = el('li', { className: 'bubble', 'data-wamid': message.waMessageId }, [
        message.picture ? picture(message) : null,
        message.text ? el('p', { className: 'bubble-text', text: message.text }) : null,
        message.fileName ? el('p', { className: 'bubble-file', text: message.fileName }) : null,
        el('p', { className: 'bubble-meta', text: 'Stored by the bridge · ' + message.waMessageId }),
      ]);
      sentNodes.set(message.waMessageId, node);
    }
    return node;
  });
  for (const id of [...sentNodes.keys()]) if (!messages.some((message) => message.waMessageId === id)) sentNodes.delete(id);
  place(sentList, nodes);
  $('sent-empty').hidden = nodes.length > 0;
}

async function send(event) {
  event.preventDefault();
  clearErrors();
  const text = fields.text.value;
  const file = fields.file.files && fields.file.files[0];
  if (text.trim() === '' && !file) {
    showProblem('The message was not sent: it is empty.', [{ path: 'text', message: 'Type a message or attach a file.' }]);
    sendStatus.textContent = 'Not sent.';
    return;
  }
  if (file && file.size > maxFileBytes) {
    showProblem('The file is ' + formatBytes(file.size) + '; the sandbox accepts files up to 16 MB.', [{ path: 'file', message: 'Choose a smaller file.' }]);
    sendStatus.textContent = 'Not sent.';
    return;
  }
  sendButton.disabled = true;
  sendStatus.textContent = 'Sending…';
  try {
    const body = { name: fields.name.value, phone: fields.phone.value };
    if (text.trim() !== '') body.text = text;
    if (file) body.file = { fileName: file.name, mimeType: file.type || 'application/octet-stream', dataBase64: await readFile(file) };
    const response = await fetch(base + '/api/messages', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showProblem(answer.detail || 'The bridge answered ' + response.status + '.', answer.errors);
      sendStatus.textContent = 'Not sent.';
      return;
    }
    await refreshPhone();
    sendStatus.textContent = 'Sent. The email follows in a moment.';
    fields.text.value = '';
    fields.file.value = '';
    fields.text.focus();
  } catch (error) {
    showProblem('Could not reach the bridge: ' + (error && error.message ? error.message : String(error)), []);
    sendStatus.textContent = 'Not sent.';
  } finally {
    sendButton.disabled = false;
  }
}

form.addEventListener('submit', send);
fields.text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
});

/* ---------- what the firm sent to this phone ---------- */

const inbox = $('inbox');
const inboxNodes = new Map();
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const stateLabels = { accepted: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read' };
const svgNs = 'http://www.w3.org/2000/svg';

/** One grey tick when sent, two when delivered, two blue ones when read; a clock before that. */
function ticks(state) {
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', '0 0 18 12');
  svg.setAttribute('aria-hidden', 'true');
  const shapes = state === 'accepted'
    ? ['M9 1.5a4.5 4.5 0 1 0 0 9a4.5 4.5 0 1 0 0-9', 'M9 3.5v2.8l1.8 1.2']
    : state === 'sent'
      ? ['M3 6.5l3 3l6.5-7']
      : ['M1 6.5l3 3l6.5-7', 'M8 8.5l1 1l6.5-7'];
  for (const d of shapes) {
    const path = document.createElementNS(svgNs, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  const label = stateLabels[state] || state;
  return el('span', { className: 'ticks', 'data-state': state, title: label }, [svg, el('span', { text: label })]);
}

function phoneMeta(message) {
  return el('p', { className: 'bubble-meta' }, [el('span', { text: 'Firm · ' + timeFormat.format(new Date(message.sentAt)) }), ticks(message.state)]);
}

function renderInbox(messages) {
  const nodes = messages.map((message) => {
    let node = inboxNodes.get(message.waMessageId);
    if (!node) {
      node = el('li', { className: 'bubble incoming', 'data-wamid': message.waMessageId, 'data-state': message.state }, [
        message.picture ? picture(message) : null,
        message.text ? el('p', { className: 'bubble-text', text: message.text }) : null,
        message.fileName ? el('p', { className: 'bubble-file', text: message.fileName }) : null,
        phoneMeta(message),
      ]);
      inboxNodes.set(message.waMessageId, node);
      announcer.textContent = 'New WhatsApp message from the firm' + (message.text ? ': ' + message.text : '');
    } else if (node.dataset.state !== message.state) {
      node.dataset.state = message.state;
      node.lastElementChild.replaceWith(phoneMeta(message));
    }
    return node;
  });
  for (const id of [...inboxNodes.keys()]) if (!messages.some((message) => message.waMessageId === id)) inboxNodes.delete(id);
  place(inbox, nodes);
  $('inbox-empty').hidden = nodes.length > 0;
}

/** Both sides of the chat with the number in the phone field, as the server has them. */
async function refreshPhone() {
  const phone = fields.phone.value;
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 8 || digits.length > 15 || !/^\+?[0-9 ().-]+$/.test(phone.trim())) return;
  try {
    const response = await fetch(base + '/api/phone?phone=' + encodeURIComponent('+' + digits), { headers: { Accept: 'application/json' } });
    if (!response.ok) return;
    const answer = await response.json();
    renderInbox(answer.messages);
    renderSent(answer.sent);
  } catch {
    // The bridge restarting; the next poll tries again.
  }
}

async function pollPhone() {
  await refreshPhone();
  window.setTimeout(pollPhone, 1000);
}

/* ---------- firm mailbox ---------- */

const threadsNode = $('threads');
const emptyNode = $('mailbox-empty');
const announcer = $('announcer');

function headerRow(name, value) {
  if (value === null || value === undefined || value === '') return null;
  return el('div', { className: 'header-row' }, [el('dt', { text: name }), el('dd', { text: value })]);
}

// The frame's document has an opaque origin, so its height cannot be measured from here: guess it
// from the plain-text part, and let the reader drag the frame taller (CSS resize).
function bodyHeight(mail) {
  const lines = (mail.text || '').split('\n').reduce((sum, line) => sum + 1 + Math.floor(line.length / 90), 0);
  return Math.min(480, Math.max(96, 48 + lines * 17));
}

/* A mail client shows a picture attachment as a preview; only these types (never SVG, which can hold script). */
const previewable = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function renderMail(mail) {
  const direction = mail.headers.find((header) => header.name.toLowerCase() === 'x-whatsapp-direction');
  const threading = el('dl', { className: 'headers' }, [
    headerRow('Message-ID', mail.messageId),
    headerRow('In-Reply-To', mail.inReplyTo),
    headerRow('References', mail.references.join(' ')),
    headerRow('Thread-Index', mail.threadIndex),
    headerRow('Thread-Topic', mail.threadTopic),
    headerRow('To', mail.to),
    ...mail.headers.map((header) => headerRow(header.name, header.value)),
    headerRow('SMTP envelope', 'from ' + (mail.envelope.from || '<>') + ' to ' + mail.envelope.to.join(', ')),
    headerRow('SHA-256 (raw)', mail.sha256),
  ]);
  const body = [];
  if (mail.parseError) body.push(el('p', { className: 'problem', text: 'This mail could not be parsed: ' + mail.parseError }));
  if (mail.html !== null) {
    const frame = el('iframe', { sandbox: '', title: 'HTML body of “' + (mail.subject || 'mail ' + mail.id) + '”', className: 'html-body' });
    frame.style.height = bodyHeight(mail) + 'px';
    frame.srcdoc = mail.html;
    body.push(frame);
    if (mail.text !== null) body.push(el('details', { className: 'text-part' }, [el('summary', { text: 'Plain-text part' }), el('pre', { className: 'text-body', text: mail.text })]));
  } else if (mail.text !== null) {
    body.push(el('pre', { className: 'text-body', text: mail.text }));
  }
  const attachments = mail.attachments.length === 0
    ? null
    : el('ul', { className: 'attachments', 'aria-label': 'Attachments' }, mail.attachments.map((attachment) =>
      el('li', {}, [
        previewable.has(attachment.contentType.toLowerCase())
          ? el('img', { className: 'attachment-preview', src: attachment.url, alt: 'Preview of ' + attachment.fileName, loading: 'lazy' })
          : null,
        el('a', { href: attachment.url, download: attachment.fileName, text: attachment.fileName }),
        el('span', { className: 'muted', text: ' ' + attachment.contentType + ' · ' + formatBytes(attachment.size) }),
      ])));
  return el('article', { className: 'mail', id: 'mail-' + mail.id, 'data-mail-id': mail.id, 'aria-labelledby': 'mail-' + mail.id + '-subject' }, [
    el('div', { className: 'mail-head' }, [
      el('span', { className: 'from', text: mail.from || '(no From)' }),
      el('time', { className: 'date', datetime: mail.date || undefined, text: formatDate(mail.date) }),
    ]),
    el('div', { className: 'subject', id: 'mail-' + mail.id + '-subject' }, [
      direction ? el('span', { className: 'badge ' + direction.value.toLowerCase(), text: direction.value }) : null,
      document.createTextNode(mail.subject || '(no subject)'),
    ]),
    el('details', { className: 'headers-block' }, [el('summary', { text: 'Threading and archive headers' }), threading]),
    ...body,
    attachments,
    el('div', { className: 'mail-foot' }, [
      el('a', { href: mail.rawUrl, target: '_blank', rel: 'noopener', className: 'raw-link', text: 'View raw MIME' }),
      el('span', { className: 'muted', text: ' · ' + formatBytes(mail.size) + ' · received ' + formatDate(new Date(mail.receivedAt).toISOString()) }),
    ]),
  ]);
}

function byDate(a, b) {
  const da = Date.parse(a.date || '') || a.receivedAt;
  const db = Date.parse(b.date || '') || b.receivedAt;
  return da - db || a.id - b.id;
}

/** The "reply as the solicitor" composer under a thread; it answers the thread's newest mail. */
function replyForm(id, node) {
  const rid = id + '-reply';
  const parts = {
    text: el('textarea', { id: rid + '-text', rows: 3, maxlength: 4096, 'aria-describedby': rid + '-hint' }),
    file: el('input', { id: rid + '-file', type: 'file' }),
    button: el('button', { type: 'submit', text: 'Reply as Tom Baker (solicitor)' }),
    status: el('span', { className: 'muted', role: 'status' }),
    error: el('div', { className: 'form-error', role: 'alert', hidden: true }),
  };
  parts.form = el('form', { className: 'reply', novalidate: true, 'aria-label': 'Reply to this thread as the solicitor' }, [
    el('div', { className: 'field' }, [
      el('label', { for: rid + '-text', text: 'Solicitor’s reply' }),
      parts.text,
      el('small', { className: 'hint', id: rid + '-hint', text: 'Goes to the thread’s reply address with the earlier mail quoted below it, as a mail client sends it. The bridge strips the quote and sends the rest to the client on WhatsApp. Ctrl+Enter sends.' }),
    ]),
    el('div', { className: 'field' }, [el('label', { for: rid + '-file', text: 'Reply attachment (optional)' }), parts.file]),
    parts.error,
    el('div', { className: 'actions' }, [parts.button, parts.status]),
  ]);
  const fail = (detail, errors) => {
    parts.error.replaceChildren(el('p', { text: detail }));
    const labels = { text: 'Solicitor’s reply', file: 'Reply attachment' };
    if (errors && errors.length > 0) parts.error.append(el('ul', {}, errors.map((issue) => el('li', { text: (labels[pathKey(issue)] || String(issue.path)) + ': ' + issue.message }))));
    parts.error.hidden = false;
    parts.status.textContent = 'Not sent.';
  };
  parts.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    parts.error.hidden = true;
    const text = parts.text.value;
    const file = parts.file.files && parts.file.files[0];
    if (text.trim() === '' && !file) return fail('Type a reply or attach a file.', []);
    if (file && file.size > maxFileBytes) return fail('The file is ' + formatBytes(file.size) + '; the sandbox accepts files up to 16 MB.', []);
    parts.button.disabled = true;
    parts.status.textContent = 'Sending…';
    try {
      const body = { mailId: node.lastMailId, text };
      if (file) body.file = { fileName: file.name, mimeType: file.type || 'application/octet-stream', dataBase64: await readFile(file) };
      const response = await fetch(base + '/api/replies', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) return fail(answer.detail || 'The sandbox answered ' + response.status + '.', answer.errors);
      parts.status.textContent = 'The reply intake answered: ' + answer.response;
      parts.text.value = '';
      parts.file.value = '';
    } catch (error) {
      fail('Could not reach the sandbox: ' + (error && error.message ? error.message : String(error)), []);
    } finally {
      parts.button.disabled = false;
    }
  });
  parts.text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) parts.form.requestSubmit();
  });
  return parts;
}

function threadNode(key) {
  let node = threadNodes.get(key);
  if (!node) {
    const id = 'thread-' + threadNodes.size;
    node = {
      title: el('h3', { id: id + '-title' }),
      meta: el('p', { className: 'thread-meta' }),
      list: el('ol', { className: 'mails' }),
    };
    node.reply = replyForm(id, node);
    node.root = el('section', { className: 'thread', 'aria-labelledby': id + '-title', 'data-chat-id': key }, [
      el('div', { className: 'thread-head' }, [node.title, node.meta]),
      node.list,
      node.reply.form,
    ]);
    threadNodes.set(key, node);
  }
  return node;
}

/** Puts `nodes` in `parent` in order, moving only what is out of place (moving an iframe reloads it). */
function place(parent, nodes) {
  nodes.forEach((node, index) => {
    if (parent.children[index] !== node) parent.insertBefore(node, parent.children[index] || null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild.remove();
}

function render() {
  const groups = new Map();
  for (const mail of [...mails.values()].sort(byDate)) {
    const key = mail.chatId || '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(mail);
  }
  const ordered = [...groups.entries()].sort((a, b) => byDate(b[1][b[1].length - 1], a[1][a[1].length - 1]));
  const sections = ordered.map(([key, list]) => {
    const node = threadNode(key);
    const first = list[0];
    const last = list[list.length - 1];
    node.title.textContent = key ? first.threadTopic || first.subject || 'WhatsApp chat' : 'Mail without an X-WhatsApp-Chat-Id header';
    node.lastMailId = last.id;
    node.reply.form.hidden = !key;
    node.meta.textContent = (key ? 'Chat ' + key + ' · ' : '') + list.length + (list.length === 1 ? ' mail' : ' mails') + ' · last ' + formatDate(last.date);
    place(node.list, list.map((mail) => {
      let item = mailNodes.get(mail.id);
      if (!item) {
        item = el('li', {}, [renderMail(mail)]);
        mailNodes.set(mail.id, item);
      }
      return item;
    }));
    return node.root;
  });
  place(threadsNode, sections);
  emptyNode.hidden = mails.size > 0;
  $('mail-count').textContent = mails.size === 0 ? '' : mails.size + (mails.size === 1 ? ' mail' : ' mails') + ' in ' + sections.length + (sections.length === 1 ? ' thread' : ' threads');
}

async function loadAll() {
  const response = await fetch(base + '/api/mails', { headers: { Accept: 'application/json' } });
  if (!response.ok) return;
  const answer = await response.json();
  const ids = new Set(answer.mails.map((mail) => mail.id));
  for (const id of [...mails.keys()]) {
    if (ids.has(id)) continue;
    mails.delete(id);
    mailNodes.delete(id);
  }
  for (const mail of answer.mails) mails.set(mail.id, mail);
  render();
}

async function loadOne(id) {
  if (mails.has(id)) return;
  const response = await fetch(base + '/api/mails/' + id, { headers: { Accept: 'application/json' } });
  if (!response.ok) return;
  const mail = await response.json();
  mails.set(mail.id, mail);
  render();
  const node = mailNodes.get(mail.id);
  if (node) {
    node.firstElementChild.classList.add('fresh');
    window.setTimeout(() => node.firstElementChild.classList.remove('fresh'), 4000);
  }
  announcer.textContent = 'New mail: ' + (mail.subject || '(no subject)');
}

function setLive(state, text) {
  const live = $('live');
  live.dataset.state = state;
  live.textContent = text;
}

const events = new EventSource(base + '/api/events');
events.addEventListener('open', () => {
  setLive('live', 'Live');
  loadAll().catch(() => setLive('down', 'Could not load the mailbox'));
});
events.addEventListener('error', () => setLive('down', 'Reconnecting…'));
events.addEventListener('mail', (event) => {
  const { id } = JSON.parse(event.data);
  loadOne(id).catch(() => undefined);
});
loadAll().catch(() => setLive('down', 'Could not load the mailbox'));
pollPhone();

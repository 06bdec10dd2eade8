// The shell: node config, API key, hash routing, the message banner and the dialogs. Each page is a module exporting
// render(main, params, page) that uses page.signal / page.every so everything it started stops when the user leaves.

import { api, events, isAbort, key, loadNodeConfig, node } from './api.js';
import { announce, h, replace } from './dom.js';
import { clearBannerOf, hideBanner, reportError, showBanner } from './shell.js';
import * as pipelines from './pages/pipelines.js';
import * as editor from './pages/editor.js';
import * as detail from './pages/detail.js';
import * as send from './pages/send.js';
import * as cluster from './pages/cluster.js';

const routes = [
  { pattern: /^\/pipelines$/, page: pipelines, nav: 'pipelines' },
  { pattern: /^\/pipelines\/new$/, page: editor, nav: 'pipelines', params: () => ({ id: null }) },
  { pattern: /^\/pipelines\/([^/]+)\/edit$/, page: editor, nav: 'pipelines', params: (m) => ({ id: decodeURIComponent(m[1]) }) },
  { pattern: /^\/pipelines\/([^/]+)$/, page: detail, nav: 'pipelines', params: (m) => ({ id: decodeURIComponent(m[1]) }) },
  { pattern: /^\/send$/, page: send, nav: 'send' },
  { pattern: /^\/cluster$/, page: cluster, nav: 'cluster' },
];

/** The lifetime of the page on screen: its requests, streams and timers end when the user navigates away. */
class PageContext {
  constructor() {
    this.controller = new AbortController();
    this.timers = new Set();
  }

  get signal() {
    return this.controller.signal;
  }

  get alive() {
    return !this.controller.signal.aborted;
  }

  /**
   * Runs fn now and then every ms after it finishes (no overlapping calls); an error goes to the banner until a later
   * run succeeds (a refresh refused while the coordinators elect a leader, say, clears once they have one). fn returns
   * false when it did nothing this time (a frozen or hidden panel): that is no success.
   */
  every(ms, fn) {
    const owner = {};
    const tick = async () => {
      if (!this.alive) return;
      if (!document.hidden) {
        try {
          if ((await fn()) !== false && this.alive) clearBannerOf(owner);
        } catch (e) {
          if (!isAbort(e)) reportError(e, { owner });
        }
      }
      if (this.alive) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          tick();
        }, ms);
        this.timers.add(t);
      }
    };
    tick();
  }

  dispose() {
    this.controller.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

let current = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/pipelines';
  const [path, query] = raw.split('?');
  return { path, query: new URLSearchParams(query ?? '') };
}

function route() {
  current?.dispose();
  hideBanner('error'); // an error belongs to the page it happened on
  current = new PageContext();
  const main = document.getElementById('main');
  const { path, query } = parseHash();
  if (path === '/' || path === '') {
    location.replace('#/pipelines');
    return;
  }
  const match = routes.map((r) => ({ r, m: path.match(r.pattern) })).find((x) => x.m);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (match && a.dataset.nav === match.r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!match) {
    document.title = 'Not found · Varpulis';
    replace(main, h('h1', null, 'Page not found'), h('p', null, 'There is no page at ', h('code', null, path), '. ', h('a', { href: '#/pipelines' }, 'Back to pipelines')));
    return;
  }
  const params = { ...(match.r.params?.(match.m) ?? {}), query };
  replace(main);
  match.r.page.render(main, params, current);
}

let keyWaiters = [];

function askForKey(message) {
  const dialog = document.getElementById('key-dialog');
  const error = document.getElementById('key-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  if (!dialog.open) dialog.showModal();
  document.getElementById('key-input').focus();
  return new Promise((resolve) => keyWaiters.push(resolve));
}

async function submitKey(ev) {
  ev.preventDefault();
  const input = document.getElementById('key-input');
  const error = document.getElementById('key-error');
  const submit = document.getElementById('key-submit');
  const value = input.value.trim();
  if (!value) return;
  key.set(value);
  submit.disabled = true;
  try {
    const usage = await api('GET', '/api/v1/usage');
    document.getElementById('key-dialog').close();
    input.value = '';
    showTenant(usage.tenant_id);
    const waiters = keyWaiters;
    keyWaiters = [];
    for (const w of waiters) w();
    announce('Key accepted');
  } catch (e) {
    key.clear();
    error.hidden = false;
    error.textContent = e.status === 401 ? `The server refused this key: ${e.message}.` : e.describe();
    input.select();
  } finally {
    submit.disabled = false;
  }
}

function showTenant(tenant) {
  const info = document.getElementById('node-info');
  info.textContent = `${node.kind} ${node.version}${tenant ? ` · tenant ${tenant}` : ''}`;
}

// ---------------------------------------------------------------- start

async function start() {
  document.getElementById('banner-close').addEventListener('click', () => hideBanner());
  document.getElementById('key-form').addEventListener('submit', submitKey);
  document.getElementById('key-dialog').addEventListener('cancel', (e) => {
    // Without a key nothing works: the dialog stays until one is accepted.
    if (!key.get()) e.preventDefault();
  });
  document.getElementById('sign-out').addEventListener('click', () => {
    key.clear();
    current?.dispose();
    replace(document.getElementById('main'), h('p', { class: 'muted' }, 'The key was removed from this tab.'));
    askForKey(null).then(route);
  });
  events.addEventListener('unauthorized', (e) => {
    if (!node.authRequired) {
      showBanner(e.detail.describe());
      return;
    }
    key.clear();
    current?.dispose();
    askForKey(`The server refused the key: ${e.detail.message}. Enter a valid key.`).then(route);
  });
  const conn = document.getElementById('connection');
  events.addEventListener('unreachable', (e) => {
    conn.textContent = 'offline';
    conn.className = 'conn conn-offline';
    showBanner(`${e.detail.message} Retrying every 2 seconds…`, 'offline');
  });
  events.addEventListener('reachable', () => {
    conn.textContent = 'online';
    conn.className = 'conn conn-online';
    hideBanner('offline');
    announce('The server is reachable again');
    route();
  });

  for (;;) {
    try {
      await loadNodeConfig();
      break;
    } catch (e) {
      showBanner(`${e.message} Retrying every 2 seconds…`, 'offline');
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  hideBanner('offline');
  conn.textContent = 'online';
  conn.className = 'conn conn-online';
  document.getElementById('nav-cluster').hidden = node.kind !== 'coordinator';
  window.addEventListener('hashchange', route);
  showTenant(null);
  if (node.authRequired) {
    document.getElementById('sign-out').hidden = false;
    if (!key.get()) {
      await askForKey(null);
    } else {
      try {
        const usage = await api('GET', '/api/v1/usage');
        showTenant(usage.tenant_id);
      } catch (e) {
        if (e.status === 401) return; // the 'unauthorized' listener asks again and routes
        reportError(e);
      }
    }
  } else {
    key.clear();
    document.getElementById('node-info').textContent = `${node.kind} ${node.version} · no key needed (loopback)`;
  }
  route();
}

start();

// The pipelines list: status, worker, events in/out and rate of each pipeline, refreshed every few seconds; deploy,
// edit/reload and delete from here.

import { api, isAbort } from '../api.js';
import { announce, badge, clock, fmtInt, fmtRate, fmtUptime, h, plural, replace } from '../dom.js';
import { confirmAction, reportError } from '../shell.js';

const REFRESH_MS = 3000;
const PAGE_SIZE = 50;

export function render(main, { query }, page) {
  let offset = Math.max(0, Number(query.get('offset')) || 0);
  const updated = h('span', { id: 'list-updated', class: 'muted small', role: 'status' });
  const auto = h('input', { type: 'checkbox', id: 'auto-refresh', checked: true });
  const body = h('tbody');
  const table = h('table', { class: 'data', id: 'pipelines-table' },
    h('caption', { class: 'visually-hidden' }, 'Deployed pipelines'),
    h('thead', null, h('tr', null,
      ['Name', 'Status', 'Worker', 'Events in', 'Events out', 'Events/s', 'Uptime', 'Actions'].map((c, i) =>
        h('th', { scope: 'col', class: i >= 3 && i <= 6 ? 'num' : null }, c)))),
    body);
  const empty = h('div', { class: 'empty', hidden: true },
    h('p', null, 'No pipelines yet.'), h('a', { class: 'button primary', href: '#/pipelines/new' }, 'Deploy your first pipeline'));
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of pipelines', hidden: true });

  document.title = 'Pipelines · Varpulis';
  main.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Pipelines'),
      h('div', { class: 'actions' },
        h('label', { class: 'inline', for: 'auto-refresh' }, auto, ' Auto-refresh'),
        h('button', { type: 'button', onclick: () => refresh().catch(fail) }, 'Refresh'),
        h('a', { class: 'button primary', href: '#/pipelines/new' }, 'New pipeline'))),
    updated,
    h('div', { class: 'table-wrap' }, table),
    empty,
    pager);

  async function remove(p) {
    if (!(await confirmAction('Delete pipeline?', `Delete pipeline “${p.name}” (${p.id})? Its state and queued outputs are discarded.`, 'Delete'))) return;
    try {
      await api('DELETE', `/api/v1/pipelines/${encodeURIComponent(p.id)}`, undefined, { signal: page.signal });
      announce(`Pipeline ${p.name} deleted`);
      await refresh();
    } catch (e) {
      fail(e);
    }
  }

  function row(p, m) {
    const link = `#/pipelines/${encodeURIComponent(p.id)}`;
    return h('tr', { 'data-id': p.id },
      h('th', { scope: 'row' }, h('a', { href: link }, p.name), h('div', { class: 'muted small mono' }, p.id)),
      h('td', null, badge(p.status)),
      h('td', null, p.worker_id ?? h('span', { class: 'muted' }, 'this node')),
      h('td', { class: 'num', 'data-col': 'in' }, fmtInt(m?.events_processed)),
      h('td', { class: 'num', 'data-col': 'out' }, fmtInt(m?.output_events_emitted)),
      h('td', { class: 'num', 'data-col': 'rate' }, fmtRate(m?.events_per_second)),
      h('td', { class: 'num' }, fmtUptime(p.uptime_secs)),
      h('td', { class: 'actions-cell' }, h('div', { class: 'row-actions' },
        h('a', { class: 'button small', href: `${link}/edit`, 'aria-label': `Edit ${p.name}` }, 'Edit'),
        h('a', { class: 'button small', href: `#/send?pipeline=${encodeURIComponent(p.id)}`, 'aria-label': `Send events to ${p.name}` }, 'Send'),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${p.name}`, onclick: () => remove(p) }, 'Delete'))));
  }

  function renderPager(pagination) {
    pager.hidden = pagination.total <= PAGE_SIZE;
    if (pager.hidden) return;
    const last = offset + PAGE_SIZE >= pagination.total;
    replace(pager,
      h('button', { type: 'button', disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE_SIZE); refresh().catch(fail); } }, 'Previous'),
      h('span', { class: 'muted' }, `${offset + 1}–${Math.min(offset + PAGE_SIZE, pagination.total)} of ${pagination.total}`),
      h('button', { type: 'button', disabled: last, onclick: () => { offset += PAGE_SIZE; refresh().catch(fail); } }, 'Next'));
  }

  async function refresh() {
    const list = await api('GET', `/api/v1/pipelines?limit=${PAGE_SIZE}&offset=${offset}`, undefined, { signal: page.signal });
    // Metrics per listed pipeline; one that disappears meanwhile just shows dashes.
    const metrics = await Promise.all(list.pipelines.map((p) =>
      api('GET', `/api/v1/pipelines/${encodeURIComponent(p.id)}/metrics`, undefined, { signal: page.signal }).catch((e) => {
        if (isAbort(e)) throw e;
        return null;
      })));
    replace(body, list.pipelines.map((p, i) => row(p, metrics[i])));
    table.hidden = list.pipelines.length === 0 && offset === 0;
    empty.hidden = !table.hidden;
    renderPager(list.pagination);
    updated.textContent = `${plural(list.total, 'pipeline')} · updated ${clock()}`;
  }

  function fail(e) {
    if (!isAbort(e)) reportError(e);
  }

  page.every(REFRESH_MS, async () => {
    if (!auto.checked && updated.textContent) return false; // frozen: nothing refreshed
    await refresh();
    return true;
  });
}

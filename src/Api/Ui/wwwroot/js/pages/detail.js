// One pipeline: its metrics and charts, the live output over SSE, the live pattern runs, checkpoint download and
// restore, and the connectors and dead-letter queue when this node serves them.

import { api, apiText, hasFeature, isAbort, readEventStream } from '../api.js';
import { LineChart } from '../chart.js';
import { announce, badge, clock, fields, fmtInt, fmtMicros, fmtRate, fmtUptime, h, plural, replace } from '../dom.js';
import { confirmAction, reportError } from '../shell.js';

const METRICS_MS = 2000;
const RUNS_MS = 2000;
const OPTIONAL_PANELS_MS = 5000;
const MAX_LOG_ROWS = 300;
const MAX_ENDED_RUNS = 20;

function section(id, title, ...content) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...content);
}

function fail(e) {
  if (!isAbort(e)) reportError(e);
}

export function render(main, { id }, page) {
  const base = `/api/v1/pipelines/${encodeURIComponent(id)}`;
  document.title = 'Pipeline · Varpulis';
  main.append(h('p', { class: 'muted' }, 'Loading pipeline…'));
  api('GET', base, undefined, { signal: page.signal })
    .then((p) => show(main, p, base, page))
    .catch((e) => {
      if (isAbort(e)) return;
      if (e.status === 404) {
        replace(main, h('h1', null, 'Pipeline not found'), h('p', null, `${e.message}. `, h('a', { href: '#/pipelines' }, 'Back to pipelines')));
      } else {
        fail(e);
      }
    });
}

function show(main, p, base, page) {
  document.title = `${p.name} · Varpulis`;
  const link = `#/pipelines/${encodeURIComponent(p.id)}`;

  async function remove() {
    if (!(await confirmAction('Delete pipeline?', `Delete pipeline “${p.name}” (${p.id})? Its state and queued outputs are discarded.`, 'Delete'))) return;
    try {
      await api('DELETE', base, undefined, { signal: page.signal });
      announce(`Pipeline ${p.name} deleted`);
      location.hash = '#/pipelines';
    } catch (e) {
      fail(e);
    }
  }

  const metrics = metricsPanel(base, page);
  const log = outputPanel(base, p, page);
  const runs = runsPanel(base, p, page);
  const checkpoint = checkpointPanel(base, p, page);
  replace(main,
    h('div', { class: 'page-head' },
      h('div', null,
        h('p', { class: 'crumbs' }, h('a', { href: '#/pipelines' }, 'Pipelines'), ' / '),
        h('h1', null, p.name, ' ', badge(p.status))),
      h('div', { class: 'actions' },
        h('a', { class: 'button', href: `${link}/edit` }, 'Edit / reload'),
        h('a', { class: 'button', href: `#/send?pipeline=${encodeURIComponent(p.id)}` }, 'Send events'),
        h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete'))),
    h('dl', { class: 'meta' },
      h('dt', null, 'Id'), h('dd', { class: 'mono' }, p.id),
      h('dt', null, 'Worker'), h('dd', null, p.worker_id ?? 'this node'),
      h('dt', null, 'Uptime at load'), h('dd', null, fmtUptime(p.uptime_secs)),
      h('dt', null, 'Created'), h('dd', null, p.created_at ?? '–'),
      h('dt', null, 'Streams'), h('dd', null, p.streams.join(', ') || 'none')),
    h('div', { class: 'grid' }, metrics, log, runs, checkpoint,
      hasFeature('connectors') ? connectorsPanel(base, page) : null,
      hasFeature('dlq') ? dlqPanel(base, page) : null));
}

// ---------------------------------------------------------------- metrics

function metricsPanel(base, page) {
  const tiles = {};
  const tile = (key, label) => {
    tiles[key] = h('dd', { 'data-metric': key }, '–');
    return h('div', { class: 'tile' }, h('dt', null, label), tiles[key]);
  };
  const throughput = new LineChart({
    id: 'chart-throughput',
    title: 'Throughput (events per second)',
    series: [{ key: 'in', label: 'events in', cls: 's1' }, { key: 'out', label: 'outputs', cls: 's2' }],
    format: fmtRate,
  });
  const latency = new LineChart({
    id: 'chart-latency',
    title: 'Processing latency (from the histogram)',
    series: [{ key: 'p50', label: 'p50', cls: 's1' }, { key: 'p99', label: 'p99', cls: 's3' }],
    format: fmtMicros,
  });
  let prev = null;
  page.every(METRICS_MS, async () => {
    const m = await api('GET', `${base}/metrics`, undefined, { signal: page.signal });
    const now = new Date();
    tiles.events_processed.textContent = fmtInt(m.events_processed);
    tiles.output_events_emitted.textContent = fmtInt(m.output_events_emitted);
    tiles.events_per_second.textContent = fmtRate(m.events_per_second);
    tiles.latency_p50_us.textContent = fmtMicros(m.latency_p50_us);
    tiles.latency_p99_us.textContent = fmtMicros(m.latency_p99_us);
    tiles.active_runs.textContent = fmtInt(m.active_runs);
    tiles.late_events.textContent = fmtInt(m.late_events);
    tiles.dlq_events.textContent = fmtInt(m.dlq_events);
    // Outputs per second from the counter's change between two samples.
    const seconds = prev ? (now - prev.t) / 1000 : 0;
    const outRate = seconds > 0 ? Math.max(0, m.output_events_emitted - prev.out) / seconds : 0;
    prev = { t: now, out: m.output_events_emitted };
    throughput.push({ t: now, values: { in: m.events_per_second, out: outRate } });
    latency.push({ t: now, values: { p50: m.latency_p50_us, p99: m.latency_p99_us } });
  });
  return section('metrics', 'Metrics',
    h('dl', { class: 'tiles' },
      tile('events_processed', 'Events in'),
      tile('output_events_emitted', 'Output events'),
      tile('events_per_second', 'Events/s'),
      tile('latency_p50_us', 'Latency p50'),
      tile('latency_p99_us', 'Latency p99'),
      tile('active_runs', 'Active runs'),
      tile('late_events', 'Late events'),
      tile('dlq_events', 'Dead-lettered')),
    h('div', { class: 'charts' }, throughput.element, latency.element));
}

// ---------------------------------------------------------------- live output (SSE)

function outputPanel(base, p, page) {
  const rows = h('tbody', { id: 'log-rows' });
  const state = h('span', { id: 'log-state', class: 'conn', role: 'status' }, 'connecting…');
  const counts = h('span', { id: 'log-counts', class: 'muted small' });
  const pausedNote = h('p', { id: 'log-paused', class: 'note', hidden: true });
  const warnings = h('ul', { id: 'log-warnings', class: 'warnings' });
  const pause = h('button', { type: 'button', id: 'log-pause', 'aria-pressed': 'false' }, 'Pause');
  const filter = h('select', { id: 'log-filter' }, h('option', { value: '' }, 'All event types'), p.streams.map((st) => h('option', { value: st }, st)));
  const clear = h('button', { type: 'button', id: 'log-clear' }, 'Clear');
  let received = 0;
  let skipped = 0;
  let paused = false;
  let held = [];

  const updateCounts = () => {
    counts.textContent = `${fmtInt(received)} received${skipped ? ` · ${fmtInt(skipped)} skipped` : ''}`;
  };
  const visible = (row) => !filter.value || row.dataset.type === filter.value;
  const addRow = (ev) => {
    const row = h('tr', { 'data-type': ev.event_type },
      h('td', { class: 'mono nowrap' }, ev.timestamp ?? ''),
      h('td', null, h('span', { class: 'type' }, ev.event_type)),
      h('td', { class: 'mono' }, fields(ev.data)));
    row.hidden = !visible(row);
    rows.prepend(row);
    while (rows.children.length > MAX_LOG_ROWS) rows.lastElementChild.remove();
  };
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) {
      for (const ev of held) addRow(ev);
      held = [];
      pausedNote.hidden = true;
    }
    announce(paused ? 'Live output paused' : 'Live output resumed');
  });
  filter.addEventListener('change', () => {
    for (const row of rows.children) row.hidden = !visible(row);
  });
  clear.addEventListener('click', () => {
    rows.replaceChildren();
    warnings.replaceChildren();
  });

  const onMessage = (name, data) => {
    let body;
    try {
      body = JSON.parse(data);
    } catch {
      return;
    }
    if (name === 'warning') {
      const n = Number((body.warning ?? '').match(/\d+/)?.[0] ?? 0);
      skipped += n;
      updateCounts();
      warnings.prepend(h('li', { class: 'warning' }, `${clock()}: ${body.warning} — this view fell behind the pipeline; the pipeline itself lost nothing.`));
      while (warnings.children.length > 5) warnings.lastElementChild.remove();
      return;
    }
    received += 1;
    updateCounts();
    if (paused) {
      held.push(body);
      if (held.length > MAX_LOG_ROWS) held.shift();
      pausedNote.hidden = false;
      pausedNote.textContent = `Paused: ${plural(held.length, 'new event')} held (the latest ${MAX_LOG_ROWS} are kept).`;
      return;
    }
    addRow(body);
  };

  (async () => {
    while (page.alive) {
      try {
        await readEventStream(`${base}/logs`, {
          signal: page.signal,
          onOpen: () => {
            state.textContent = 'live';
            state.className = 'conn conn-online';
          },
          onMessage,
        });
      } catch (e) {
        if (isAbort(e)) return;
        if (e.status === 404 || e.status === 401) {
          state.textContent = 'stopped';
          state.className = 'conn conn-offline';
          if (e.status === 404) return;
        }
      }
      if (!page.alive) return;
      state.textContent = 'reconnecting…';
      state.className = 'conn conn-offline';
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  updateCounts();

  return section('live-output', 'Live output',
    h('div', { class: 'toolbar' },
      state, counts,
      h('span', { class: 'spacer' }),
      h('label', { for: 'log-filter', class: 'inline' }, 'Event type'), filter,
      pause, clear),
    pausedNote,
    warnings,
    h('div', { class: 'table-wrap log' },
      h('table', { class: 'data', id: 'log-table' },
        h('caption', { class: 'visually-hidden' }, 'Output events, newest first'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Event time'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Fields'))),
        rows)));
}

// ---------------------------------------------------------------- pattern runs

function describeCapture(alias, value) {
  if (Array.isArray(value)) return `${alias}: ${plural(value.length, 'event')} (${value.map((v) => v?.event_type ?? '?').join(', ')})`;
  if (value && typeof value === 'object' && 'event_type' in value) return `${alias}: ${value.event_type} @ ${value.timestamp} {${fields(value.data)}}`;
  return `${alias}: ${JSON.stringify(value)}`;
}

function runKey(r) {
  const first = Object.entries(r.captures ?? {})[0];
  return JSON.stringify([r.stream, r.partition, r.started_at, first ?? null]);
}

function runsPanel(base, p, page) {
  const rows = h('tbody', { id: 'runs-rows' });
  const ended = h('ul', { id: 'runs-ended', class: 'ended' });
  const endedWrap = h('div', { hidden: true }, h('h3', null, 'Recently ended'), ended);
  const totals = h('p', { id: 'runs-total', class: 'muted small', role: 'status' });
  const table = h('table', { class: 'data', id: 'runs-table' },
    h('caption', { class: 'visually-hidden' }, 'Live pattern runs'),
    h('thead', null, h('tr', null,
      ['Stream', 'Partition', 'Step', 'Next step', 'Captured', 'Started (event time)', 'Deadline (event time)'].map((c) => h('th', { scope: 'col' }, c)))),
    rows);
  let previous = new Map();
  let lastPoll = null;

  page.every(RUNS_MS, async () => {
    const replies = await Promise.all(p.streams.map((st) =>
      api('GET', `${base}/runs?stream=${encodeURIComponent(st)}&limit=100`, undefined, { signal: page.signal })));
    const now = new Date();
    const live = new Map();
    let total = 0;
    for (const reply of replies) {
      total += reply.pagination.total;
      for (const r of reply.runs) live.set(runKey(r), r);
    }
    for (const [k, r] of previous) {
      if (live.has(k)) continue;
      const partition = r.partition === null ? '' : ` partition ${JSON.stringify(r.partition)}`;
      ended.prepend(h('li', { 'data-stream': r.stream },
        `${r.stream}${partition}: started ${r.started_at}, at step ${r.step_reached} (next ${r.next_step}); `,
        `ended between ${clock(lastPoll)} and ${clock(now)} — it matched, passed its deadline in event time, or was reset.`));
      while (ended.children.length > MAX_ENDED_RUNS) ended.lastElementChild.remove();
      endedWrap.hidden = false;
    }
    previous = live;
    lastPoll = now;
    replace(rows, [...live.values()].map((r) => h('tr', { 'data-stream': r.stream },
      h('td', null, r.stream),
      h('td', { class: 'mono' }, r.partition === null ? '—' : JSON.stringify(r.partition)),
      h('td', { class: 'num' }, String(r.step_reached)),
      h('td', { class: 'mono' }, r.next_step),
      h('td', { class: 'mono' }, Object.entries(r.captures ?? {}).map(([a, v]) => h('div', null, describeCapture(a, v)))),
      h('td', { class: 'mono nowrap' }, r.started_at),
      h('td', { class: 'mono nowrap' }, r.deadline ?? 'none'))));
    table.hidden = live.size === 0;
    totals.textContent = total === 0
      ? `No active runs · updated ${clock(now)}`
      : `${plural(total, 'active run')}${total > live.size ? ` (the oldest ${live.size} shown)` : ''} · updated ${clock(now)}`;
  });

  return section('runs', 'Pattern runs',
    h('p', { class: 'muted small' }, 'Partial matches waiting for their next event. Deadlines are in event time: a run ends when it matches, or when an event later than its deadline arrives.'),
    totals,
    h('div', { class: 'table-wrap' }, table),
    endedWrap);
}

// ---------------------------------------------------------------- checkpoint and restore

function checkpointPanel(base, p, page) {
  const status = h('p', { id: 'checkpoint-status', class: 'form-result', role: 'status' });
  const file = h('input', { type: 'file', id: 'restore-file', accept: '.json,application/json' });
  const restore = h('button', { type: 'button', id: 'restore-button' }, 'Restore');
  const download = h('button', { type: 'button', id: 'checkpoint-button' }, 'Download checkpoint');

  download.addEventListener('click', async () => {
    download.disabled = true;
    try {
      // Saved as the server sent it: parsing and re-serializing would round 64-bit integers (nanosecond times).
      const text = await apiText('POST', `${base}/checkpoint`, undefined, { signal: page.signal });
      const doc = JSON.parse(text);
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const name = `checkpoint-${p.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${doc.created_at.replace(/[:.]/g, '-')}.json`;
      const a = h('a', { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.textContent = `Checkpoint of ${plural(doc.events_processed, 'event')} taken at ${doc.created_at}, saved as ${name}.`;
      status.className = 'form-result ok-text';
    } catch (e) {
      status.textContent = '';
      fail(e);
    } finally {
      download.disabled = false;
    }
  });

  restore.addEventListener('click', async () => {
    const chosen = file.files?.[0];
    if (!chosen) {
      status.textContent = 'Choose a checkpoint file first.';
      status.className = 'form-result error-text';
      file.focus();
      return;
    }
    const text = await chosen.text();
    try {
      JSON.parse(text);
    } catch (e) {
      status.textContent = `${chosen.name} is not JSON: ${e.message}`;
      status.className = 'form-result error-text';
      return;
    }
    if (!(await confirmAction('Restore checkpoint?', `Replace the state of “${p.name}” with ${chosen.name}? Events processed since that checkpoint are no longer reflected in its state.`, 'Restore'))) return;
    restore.disabled = true;
    try {
      const r = await api('POST', `${base}/restore`, text, { signal: page.signal });
      const list = (xs) => (xs.length ? xs.join(', ') : 'none');
      status.textContent = `Restored ${plural(r.events_restored, 'event')}. Streams restored: ${list(r.restored_streams)}. Streams reset: ${list(r.reset_streams)}.`;
      status.className = 'form-result ok-text';
      announce(status.textContent);
    } catch (e) {
      if (isAbort(e)) return;
      status.textContent = e.describe ? e.describe() : String(e);
      status.className = 'form-result error-text';
    } finally {
      restore.disabled = false;
    }
  });

  return section('checkpoint', 'Checkpoint',
    h('p', { class: 'muted small' }, 'A checkpoint is the pipeline’s whole state (windows, runs, variables) as JSON. Restore it into this or another pipeline with the same streams.'),
    h('div', { class: 'actions' }, download),
    h('div', { class: 'field' },
      h('label', { for: 'restore-file' }, 'Restore from a checkpoint file'),
      h('div', { class: 'actions' }, file, restore)),
    status);
}

// ---------------------------------------------------------------- connectors and dead letters (when served)

function connectorsPanel(base, page) {
  const rows = h('tbody', { id: 'connector-rows' });
  const panel = section('connectors', 'Connectors',
    h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Connectors of this pipeline'),
      h('thead', null, h('tr', null, ['Name', 'Kind', 'Direction', 'State', 'Circuit', 'Delivered', 'Failed', 'DLQ', 'Last error'].map((c) => h('th', { scope: 'col' }, c)))),
      rows)));
  page.every(OPTIONAL_PANELS_MS, async () => {
    if (panel.hidden) return false;
    try {
      const list = await api('GET', `${base}/connectors`, undefined, { signal: page.signal });
      replace(rows, (Array.isArray(list) ? list : []).map((c) => h('tr', null,
        h('td', null, c.name), h('td', null, c.kind), h('td', null, c.direction), h('td', null, badge(c.state)), h('td', null, c.circuit),
        h('td', { class: 'num' }, fmtInt(c.delivered)), h('td', { class: 'num' }, fmtInt(c.failed)), h('td', { class: 'num' }, fmtInt(c.dlq)),
        h('td', { class: 'small' }, c.last_error ?? ''))));
      if (!rows.children.length) replace(rows, h('tr', null, h('td', { colspan: 9, class: 'muted' }, 'This pipeline declares no connectors.')));
    } catch (e) {
      if (e.status === 404) panel.hidden = true;
      else throw e;
    }
  });
  return panel;
}

function dlqPanel(base, page) {
  const list = h('ol', { id: 'dlq-entries', class: 'dlq' });
  const total = h('p', { id: 'dlq-total', class: 'muted small', role: 'status' });
  const clear = h('button', { type: 'button', class: 'danger', id: 'dlq-clear' }, 'Clear dead letters');
  const panel = section('dlq', 'Dead-letter queue', total, h('div', { class: 'table-wrap' }, list), h('div', { class: 'actions' }, clear));
  const load = async () => {
    try {
      const reply = await api('GET', `${base}/dlq?limit=50`, undefined, { signal: page.signal });
      // The entries are the reply's list, whatever its name; each is shown as its JSON.
      const entries = Array.isArray(reply) ? reply : Object.values(reply ?? {}).find(Array.isArray) ?? [];
      const n = reply?.total ?? reply?.pagination?.total ?? entries.length;
      total.textContent = plural(n, 'dead-lettered event');
      replace(list, entries.map((x) => h('li', { class: 'mono small' }, JSON.stringify(x))));
      clear.disabled = n === 0;
    } catch (e) {
      if (e.status === 404) panel.hidden = true;
      else throw e;
    }
  };
  clear.addEventListener('click', async () => {
    if (!(await confirmAction('Clear dead letters?', 'Delete every dead-lettered event of this pipeline? They cannot be replayed afterwards.', 'Clear'))) return;
    try {
      await api('DELETE', `${base}/dlq`, undefined, { signal: page.signal });
      await load();
    } catch (e) {
      fail(e);
    }
  });
  page.every(OPTIONAL_PANELS_MS, async () => {
    if (panel.hidden) return false;
    await load();
    return true;
  });
  return panel;
}

// The cluster, on a coordinator: its health and counts, the HA leader, the workers (drain and remove, with
// confirmation), where every pipeline runs, the members, the migrations, and the pipeline groups with their routes
// drawn as a graph, the per-pipeline metrics and the scaling recommendation where this coordinator serves them.
// A section whose route this coordinator does not serve (config.json's features, or a 404 not_found answer) says so.

import { ApiError, api, hasFeature, isAbort, node } from '../api.js';
import { announce, badge, clock, fmtInt, fmtRate, h, plural, replace } from '../dom.js';
import { renderGraph } from '../graph.js';
import { confirmAction, reportError } from '../shell.js';

const REFRESH_MS = 2000;
const MIGRATIONS_SHOWN = 20;

/** Raised for a section whose route this coordinator does not serve. */
class Unavailable extends Error {
  constructor(path) {
    super(`not served: ${path}`);
    this.path = path;
  }
}

/** GET of an optional route: Unavailable when config.json does not list its feature or the route answers 404 not_found. */
export async function optionalGet(feature, path, signal) {
  if (!hasFeature(feature)) throw new Unavailable(path);
  try {
    return await api('GET', path, undefined, { signal });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.code === 'not_found') throw new Unavailable(path);
    throw e;
  }
}

/** "just now", "4 s ago", "3 min 5 s ago", "never" for a heartbeat time (RFC 3339) seen at nowMs. */
export function heartbeatAge(lastHeartbeat, nowMs) {
  if (!lastHeartbeat) return 'never';
  const secs = Math.max(0, Math.floor((nowMs - Date.parse(lastHeartbeat)) / 1000));
  if (secs < 1) return 'just now';
  if (secs < 60) return `${secs} s ago`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min ${secs % 60} s ago`;
  return `${Math.floor(secs / 3600)} h ${Math.floor((secs % 3600) / 60)} min ago`;
}

/** A migration's duration: "842 ms", "2.4 s", or "–" while it runs. */
export function fmtDuration(ms) {
  if (ms === undefined || ms === null) return '–';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function section(id, title, ...content) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...content);
}

function unavailable(what, path) {
  return h('p', { class: 'unavailable' }, `${what} is not available on this coordinator (it does not serve `, h('code', null, `GET ${path}`), ').');
}

function table(id, caption, columns, numeric = []) {
  const body = h('tbody');
  const t = h('table', { class: 'data', id },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', null, h('tr', null, columns.map((c, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : null }, c)))),
    body);
  return { table: h('div', { class: 'table-wrap' }, t), body, element: t };
}

function fail(e) {
  if (!isAbort(e)) reportError(e);
}

function time(ts) {
  return ts ? new Date(ts).toLocaleTimeString('en-GB', { hour12: false }) : '–';
}

export function render(main, params, page) {
  document.title = 'Cluster · Varpulis';
  if (node.kind !== 'coordinator') {
    main.append(h('h1', null, 'Cluster'), h('p', null, 'This node is a server, not a coordinator: open the UI of the coordinator (',
      h('code', null, 'varpulis coordinator'), ') to see the cluster. ', h('a', { href: '#/pipelines' }, 'Back to pipelines')));
    return;
  }
  const signal = page.signal;
  const updated = h('span', { id: 'cluster-updated', class: 'muted small', role: 'status' });
  const auto = h('input', { type: 'checkbox', id: 'cluster-auto-refresh', checked: true });

  // ------------------------------------------------------------ health and summary
  const tiles = {};
  const tile = (key, label) => {
    tiles[key] = h('dd', { 'data-tile': key }, '–');
    return h('div', { class: 'tile' }, h('dt', null, label), tiles[key]);
  };
  const healthBadge = h('span', { id: 'cluster-status' });
  const summary = section('cluster-health', 'Health',
    h('p', null, 'Cluster status: ', healthBadge),
    h('dl', { class: 'tiles' },
      tile('workers', 'Workers'), tile('healthy', 'Healthy'), tile('unhealthy', 'Unhealthy'), tile('draining', 'Draining'),
      tile('pipelines', 'Pipelines'), tile('groups', 'Pipeline groups'), tile('active_migrations', 'Migrations running'),
      tile('completed_migrations', 'Migrations done')));

  // ------------------------------------------------------------ HA
  const haSummary = h('dl', { class: 'meta', id: 'ha-summary' });
  const haBody = h('div', { id: 'ha-raft' });
  const ha = section('cluster-ha', 'High availability', haSummary, haBody);

  // ------------------------------------------------------------ workers
  const drainStatus = h('p', { id: 'worker-action-status', class: 'note', role: 'status', hidden: true });
  const workersTable = table('workers-table', 'Workers',
    ['Worker', 'Status', 'Pipelines', 'Assigned pipelines', 'CPU cores', 'Events processed', 'Last heartbeat', 'Actions'], [2, 4, 5]);
  const workersEmpty = h('p', { class: 'muted', id: 'workers-empty', hidden: true }, 'No worker has joined this coordinator yet: start one with ',
    h('code', null, 'varpulis server --coordinator URL'), '.');
  const workers = section('workers', 'Workers', drainStatus, workersTable.table, workersEmpty);
  const busy = new Map(); // worker id → 'drain' | 'remove' while its request runs
  let workerList = [];

  // ------------------------------------------------------------ pipelines, members, migrations
  const pipelinesTable = table('cluster-pipelines-table', 'Pipelines and their workers', ['Pipeline', 'Tenant', 'Worker', 'Status']);
  const pipelinesEmpty = h('p', { class: 'muted', hidden: true }, 'No pipeline is deployed.');
  const pipelines = section('cluster-pipelines', 'Pipelines', pipelinesTable.table, pipelinesEmpty);
  const membersTable = table('members-table', 'Cluster members', ['Member', 'Roles', 'Status', 'Reachable', 'Worker']);
  const members = section('cluster-members', 'Topology', membersTable.table);
  const migrationsTable = table('migrations-table', 'Migrations, newest first',
    ['Pipeline', 'From', 'To', 'Reason', 'Status', 'Started', 'Duration', 'Error'], [6]);
  const migrationsNote = h('p', { class: 'muted small', id: 'migrations-note' });
  const migrations = section('migrations', 'Migrations', migrationsNote, migrationsTable.table);

  // ------------------------------------------------------------ optional: groups, metrics, scaling
  const groupsBody = h('div', { id: 'groups-body' });
  const groupStatus = h('p', { id: 'group-action-status', class: 'note', role: 'status', hidden: true });
  const groups = section('groups', 'Pipeline groups', groupStatus, groupsBody);
  const metricsBody = h('div', { id: 'cluster-metrics-body' });
  const metrics = section('cluster-metrics', 'Pipeline metrics', metricsBody);
  const scalingBody = h('div', { id: 'scaling-body' });
  const scaling = section('scaling', 'Scaling', scalingBody);

  main.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Cluster'),
      h('div', { class: 'actions' },
        h('label', { class: 'inline', for: 'cluster-auto-refresh' }, auto, ' Auto-refresh'),
        h('button', { type: 'button', onclick: () => refresh().catch(fail) }, 'Refresh'))),
    updated,
    h('div', { class: 'cluster-grid' }, summary, ha, workers, pipelines, groups, migrations, members, metrics, scaling));

  // ------------------------------------------------------------ worker actions

  function showAction(text) {
    drainStatus.textContent = text;
    drainStatus.hidden = false;
    announce(text);
  }

  /** Asks, then runs a worker action (drain or remove) with the row's button busy and the outcome in the status line. */
  async function workerAction(w, action, { title, text, ok, progress, method, path, done }) {
    if (!(await confirmAction(title, text, ok))) return;
    busy.set(w.id, action);
    showAction(progress);
    renderWorkers();
    try {
      showAction(done(await api(method, `/api/v1/cluster/workers/${encodeURIComponent(w.id)}${path}`, undefined, { signal })));
    } catch (e) {
      if (!isAbort(e)) drainStatus.hidden = true;
      fail(e);
    } finally {
      busy.delete(w.id);
      if (page.alive) await refresh().catch(fail);
    }
  }

  const drain = (w) => workerAction(w, 'drain', {
    title: 'Drain worker?',
    text: `Drain worker “${w.id}”? Its ${plural(w.pipelines_running, 'pipeline')} move to the other workers with their state, and it takes no new pipeline until it is restarted.`,
    ok: 'Drain',
    progress: `Draining ${w.id}: moving ${plural(w.pipelines_running, 'pipeline')}…`,
    method: 'POST',
    path: '/drain',
    done: (r) => `Drained ${r.worker_id}: ${plural(r.pipelines_migrated, 'pipeline')} moved to other workers. It can be stopped now.`,
  });

  const remove = (w) => workerAction(w, 'remove', {
    title: 'Remove worker?',
    text: `Remove worker “${w.id}” from the cluster? A running worker is told to leave (its process stops); its ${plural(w.pipelines_running, 'pipeline')} are placed on the other workers and recover their state.`,
    ok: 'Remove',
    progress: `Removing ${w.id}…`,
    method: 'DELETE',
    path: '',
    done: (r) => `Removed ${r.worker_id}: ${plural(r.pipelines_moved, 'pipeline')} placed on other workers.`,
  });

  function workerRow(w, now) {
    const doing = busy.get(w.id);
    return h('tr', { 'data-id': w.id },
      h('th', { scope: 'row' }, w.id, h('div', { class: 'muted small mono' }, w.address)),
      h('td', { 'data-col': 'status' }, badge(w.status)),
      h('td', { class: 'num', 'data-col': 'pipelines' }, `${fmtInt(w.pipelines_running)} / ${fmtInt(w.max_pipelines)}`),
      h('td', { 'data-col': 'assigned' }, w.assigned_pipelines.length ? [...w.assigned_pipelines].sort().join(', ') : h('span', { class: 'muted' }, 'none')),
      h('td', { class: 'num', 'data-col': 'cpu' }, fmtInt(w.cpu_cores)),
      h('td', { class: 'num', 'data-col': 'events' }, fmtInt(w.events_processed)),
      h('td', { 'data-col': 'heartbeat', 'data-heartbeat': w.last_heartbeat ?? '' }, heartbeatAge(w.last_heartbeat, now)),
      h('td', { class: 'actions-cell' }, h('div', { class: 'row-actions' },
        h('button', {
          type: 'button', class: 'small', 'data-action': 'drain', 'aria-label': `Drain ${w.id}`,
          disabled: Boolean(doing) || w.status === 'draining', onclick: () => drain(w),
        }, doing === 'drain' ? 'Draining…' : 'Drain'),
        h('button', {
          type: 'button', class: 'small danger', 'data-action': 'remove', 'aria-label': `Remove ${w.id}`,
          disabled: Boolean(doing), onclick: () => remove(w),
        }, doing === 'remove' ? 'Removing…' : 'Remove'))));
  }

  function renderWorkers() {
    const now = Date.now();
    replace(workersTable.body, workerList.map((w) => workerRow(w, now)));
    workersTable.element.hidden = workerList.length === 0;
    workersEmpty.hidden = workerList.length !== 0;
    for (const [id, doing] of busy) {
      const w = workerList.find((x) => x.id === id);
      if (doing === 'drain' && w) showAction(`Draining ${id}: ${plural(w.pipelines_running, 'pipeline')} still on it…`);
    }
  }

  // ------------------------------------------------------------ rendering of each answer

  function renderHealth(health, s) {
    replace(healthBadge, badge(health.status));
    tiles.workers.textContent = fmtInt(s.workers.total);
    tiles.healthy.textContent = fmtInt(s.workers.healthy);
    tiles.unhealthy.textContent = fmtInt(s.workers.unhealthy);
    tiles.draining.textContent = fmtInt(s.workers.draining);
    tiles.pipelines.textContent = fmtInt(s.pipelines);
    tiles.groups.textContent = fmtInt(s.pipeline_groups);
    tiles.active_migrations.textContent = fmtInt(s.active_migrations);
    tiles.completed_migrations.textContent = fmtInt(s.completed_migrations);
    replace(haSummary,
      h('dt', null, 'Coordinators'), h('dd', { id: 'ha-coordinators' }, fmtInt(s.coordinators)),
      h('dt', null, 'This coordinator'), h('dd', { id: 'ha-role' }, badge(health.ha_role)),
      h('dt', null, 'Cluster manager on'), h('dd', { id: 'ha-leader', class: 'mono' }, s.leader ?? 'none (no leader)'));
  }

  function renderRaft(result) {
    if (result instanceof Unavailable) {
      replace(haBody, unavailable('Raft status', '/api/v1/cluster/raft/status'));
      return;
    }
    const r = result;
    const t = table('raft-table', 'Coordinator nodes', ['Node', 'Address', 'Role', 'Reachable']);
    replace(t.body, (r.nodes ?? []).map((n) => h('tr', { 'data-id': n.id },
      h('th', { scope: 'row' }, String(n.id), n.is_current ? h('span', { class: 'muted small' }, ' (this node)') : null),
      h('td', { class: 'mono', 'data-col': 'address' }, n.address),
      h('td', { 'data-col': 'role' }, badge(n.role)),
      h('td', { 'data-col': 'reachable' }, n.reachable ? 'yes' : badge('unreachable')))));
    const leader = r.leader_id === null || r.leader_id === undefined ? null : r.leader_id;
    replace(haBody,
      h('p', { id: 'raft-leader' }, r.enabled === false
        ? 'Raft is off: this coordinator runs alone.'
        : ['Leader: ', h('strong', { id: 'raft-leader-id' }, leader === null ? 'none elected' : `coordinator ${leader}`),
          ' · term ', h('strong', { id: 'raft-term' }, fmtInt(r.term))]),
      t.table);
  }

  function renderPipelines(topology) {
    const list = [...topology.pipelines].sort((a, b) => a.name.localeCompare(b.name) || a.pipeline_id.localeCompare(b.pipeline_id));
    replace(pipelinesTable.body, list.map((p) => h('tr', { 'data-id': p.pipeline_id, 'data-name': p.name },
      h('th', { scope: 'row' }, h('a', { href: `#/pipelines/${encodeURIComponent(p.pipeline_id)}` }, p.name),
        h('div', { class: 'muted small mono' }, p.pipeline_id)),
      h('td', null, p.tenant_id),
      h('td', { 'data-col': 'worker' }, p.worker_id ?? h('span', { class: 'muted' }, 'not placed')),
      h('td', { 'data-col': 'status' }, badge(p.status)))));
    pipelinesTable.element.hidden = list.length === 0;
    pipelinesEmpty.hidden = list.length !== 0;
    replace(membersTable.body, topology.nodes.map((n) => h('tr', { 'data-address': n.akka_address },
      h('th', { scope: 'row', class: 'mono' }, n.akka_address, n.leader ? h('span', { class: 'muted small' }, ' (cluster manager)') : null),
      h('td', null, n.roles.join(', ')),
      h('td', null, badge(n.status === 'up' ? 'up' : n.status)),
      h('td', null, n.reachable ? 'yes' : badge('unreachable')),
      h('td', null, n.worker_id ?? '–'))));
  }

  function renderMigrations(m) {
    // The coordinator lists the newest first.
    const list = m.migrations;
    migrationsNote.textContent = m.total === 0 ? 'No pipeline has moved yet.' : `${plural(m.total, 'migration')}${m.total > list.length ? `, the last ${list.length} shown` : ''}.`;
    migrationsTable.element.hidden = m.total === 0;
    replace(migrationsTable.body, list.map((x) => h('tr', { 'data-id': x.id, 'data-pipeline': x.pipeline_name },
      h('th', { scope: 'row' }, x.pipeline_name),
      h('td', { 'data-col': 'from' }, x.from_worker ?? '–'),
      h('td', { 'data-col': 'to' }, x.to_worker ?? '–'),
      h('td', { 'data-col': 'reason' }, x.reason.replace(/_/g, ' ')),
      h('td', { 'data-col': 'status' }, badge(x.status.replace(/_/g, ' '), x.status)),
      h('td', null, time(x.started_at)),
      h('td', { class: 'num' }, fmtDuration(x.duration_ms)),
      h('td', { class: 'error-text' }, x.error ?? ''))));
  }

  async function deleteGroup(g) {
    // Every deployed pipeline goes: one per replica.
    if (!(await confirmAction('Tear down group?', `Tear down pipeline group “${g.name}”? Its ${plural(g.deployments.length, 'pipeline')} are deleted with their state.`, 'Tear down'))) return;
    try {
      const r = await api('DELETE', `/api/v1/cluster/pipeline-groups/${encodeURIComponent(g.id)}`, undefined, { signal });
      groupStatus.textContent = `Tore down ${g.name}: ${plural(r.pipelines_deleted, 'pipeline')} deleted.`;
      groupStatus.hidden = false;
      announce(groupStatus.textContent);
      await refresh();
    } catch (e) {
      fail(e);
    }
  }

  function renderGroups(result) {
    if (result instanceof Unavailable) {
      replace(groupsBody, unavailable('Pipeline groups', '/api/v1/cluster/pipeline-groups'));
      return;
    }
    if (result.length === 0) {
      replace(groupsBody, h('p', { class: 'muted' }, 'No pipeline group is deployed.'));
      return;
    }
    replace(groupsBody, result.map((g) => {
      const t = table(null, `Pipelines of ${g.name}`, ['Pipeline', 'Worker', 'Status']);
      // A replicated pipeline has a row per replica.
      const replicated = new Set((g.pipelines ?? []).filter((p) => p.replicas > 1).map((p) => p.name));
      replace(t.body, g.deployments.map((d) => h('tr', { 'data-name': d.pipeline_name, 'data-replica': d.replica ?? 0 },
        h('th', { scope: 'row' }, d.pipeline_id ? h('a', { href: `#/pipelines/${encodeURIComponent(d.pipeline_id)}` }, d.pipeline_name) : d.pipeline_name,
          replicated.has(d.pipeline_name) ? h('span', { class: 'muted small' }, ` · replica ${d.replica}`) : null),
        h('td', { 'data-col': 'worker' }, d.worker_id ?? h('span', { class: 'muted' }, 'not placed')),
        h('td', { 'data-col': 'status' }, badge(d.status)))));
      return h('article', { class: 'group', 'data-id': g.id, 'data-name': g.name },
        h('div', { class: 'group-head' },
          h('h3', null, g.name, ' ', badge(g.status.replace(/_/g, ' '), g.status)),
          h('button', { type: 'button', class: 'small danger', 'aria-label': `Tear down ${g.name}`, onclick: () => deleteGroup(g) }, 'Tear down')),
        h('div', { class: 'graph-wrap' }, renderGraph(g)),
        t.table);
    }));
  }

  /** pipeline id → replica number, for the pipelines of replicated group pipelines. */
  function replicasOf(groupList) {
    const replicas = new Map();
    if (!Array.isArray(groupList)) return replicas;
    for (const g of groupList) {
      const replicated = new Set((g.pipelines ?? []).filter((p) => p.replicas > 1).map((p) => p.name));
      for (const d of g.deployments) if (replicated.has(d.pipeline_name)) replicas.set(d.pipeline_id, d.replica);
    }
    return replicas;
  }

  function renderMetrics(result, replicas) {
    if (result instanceof Unavailable) {
      replace(metricsBody, unavailable('Per-pipeline cluster metrics', '/api/v1/cluster/metrics'));
      return;
    }
    const t = table('cluster-metrics-table', 'Pipeline metrics', ['Group', 'Pipeline', 'Worker', 'Events in', 'Events out', 'Events/s'], [3, 4, 5]);
    replace(t.body, (result.pipelines ?? []).map((p) => h('tr', { 'data-name': p.pipeline_name, 'data-id': p.pipeline_id },
      h('td', null, p.group ?? '–'),
      h('th', { scope: 'row' }, p.pipeline_name,
        replicas.has(p.pipeline_id) ? h('span', { class: 'muted small' }, ` · replica ${replicas.get(p.pipeline_id)}`) : null),
      h('td', null, p.worker_id ?? '–'),
      h('td', { class: 'num' }, fmtInt(p.events_in)),
      h('td', { class: 'num' }, fmtInt(p.events_out)),
      h('td', { class: 'num' }, fmtRate(p.events_per_second)))));
    // The counters come with the workers' heartbeats: a pipeline shows once its worker has reported it.
    replace(metricsBody, (result.pipelines ?? []).length ? t.table
      : h('p', { class: 'muted' }, 'No worker has reported a running pipeline yet (each reports its pipelines with its heartbeat).'));
  }

  function renderScaling(result) {
    if (result instanceof Unavailable) {
      replace(scalingBody, unavailable('The scaling recommendation', '/api/v1/cluster/scaling'));
      return;
    }
    const r = result;
    replace(scalingBody,
      h('p', { id: 'scaling-action' }, badge(r.action.replace(/_/g, ' '), r.action), ' ',
        r.action === 'stable' ? `${plural(r.current_workers, 'worker')}, no change recommended` : `${fmtInt(r.current_workers)} → ${plural(r.target_workers, 'worker')}`),
      h('dl', { class: 'meta' },
        h('dt', null, 'Reason'), h('dd', { id: 'scaling-reason' }, r.reason),
        h('dt', null, 'Pipelines'), h('dd', { id: 'scaling-pipelines' }, `${fmtInt(r.total_pipelines)} (${fmtRate(r.avg_pipelines_per_worker)} per healthy worker)`),
        h('dt', null, 'Computed'), h('dd', { id: 'scaling-time' }, time(r.timestamp))));
  }

  // ------------------------------------------------------------ refresh

  const optional = (promise) => promise.catch((e) => {
    if (e instanceof Unavailable) return e;
    throw e;
  });

  async function refresh() {
    const [health, s, list, topology, m, raft, grp, met, scl] = await Promise.all([
      api('GET', '/health', undefined, { signal }),
      api('GET', '/api/v1/cluster/summary', undefined, { signal }),
      api('GET', '/api/v1/cluster/workers', undefined, { signal }),
      api('GET', '/api/v1/cluster/topology', undefined, { signal }),
      api('GET', `/api/v1/cluster/migrations?limit=${MIGRATIONS_SHOWN}`, undefined, { signal }),
      optional(optionalGet('raft', '/api/v1/cluster/raft/status', signal)),
      optional(optionalGet('groups', '/api/v1/cluster/pipeline-groups', signal)),
      optional(optionalGet('cluster_metrics', '/api/v1/cluster/metrics', signal)),
      optional(optionalGet('scaling', '/api/v1/cluster/scaling', signal)),
    ]);
    renderHealth(health, s);
    renderRaft(raft);
    workerList = [...list].sort((a, b) => a.id.localeCompare(b.id));
    renderWorkers();
    renderPipelines(topology);
    renderMigrations(m);
    renderGroups(grp);
    renderMetrics(met, replicasOf(grp));
    renderScaling(scl);
    updated.textContent = `${plural(list.length, 'worker')}, ${plural(topology.pipelines.length, 'pipeline')} · updated ${clock()}`;
  }

  page.every(REFRESH_MS, async () => {
    if (!auto.checked && updated.textContent) return false; // frozen: nothing refreshed
    await refresh();
    return true;
  });
  // The heartbeat ages move on between refreshes.
  page.every(1000, async () => {
    const now = Date.now();
    for (const cell of workersTable.body.querySelectorAll('[data-heartbeat]')) {
      cell.textContent = heartbeatAge(cell.dataset.heartbeat || null, now);
    }
  });
}

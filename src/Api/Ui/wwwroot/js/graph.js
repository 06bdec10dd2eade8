// The route graph of a pipeline group: nodes are the group's pipelines (and "_external", where injected events come
// from), edges are its routes labelled with their event types. A layered layout: each node's layer is the longest
// path to it from a source (routes that close a cycle are drawn backwards and do not count), nodes in a layer are
// ordered by the mean position of their predecessors, and edges are curves from the right of one node to the left of
// the next. Pure functions (layoutGraph, groupGraph) are tested on their own.

import { nextId, s } from './dom.js';

export const EXTERNAL = '_external';

const NODE_W = 190;
const NODE_H = 48;
const GAP_X = 120;
const GAP_Y = 28;
const PAD = 16;
const MAX_LABEL = 24;

/**
 * The nodes and edges of a GroupInfo: {nodes: [{id, worker, status}], edges: [{from, to, label}]}. A pipeline with
 * replicas has one deployment per replica: its node names each worker once ("worker-1, worker-2", in replica order)
 * and shows the first status that is not "running".
 */
export function groupGraph(group) {
  const nodes = new Map();
  const add = (id) => {
    if (!nodes.has(id)) nodes.set(id, { id, worker: null, status: null, workers: [], statuses: [] });
    return nodes.get(id);
  };
  for (const d of group.deployments ?? []) {
    const n = add(d.pipeline_name);
    if (d.worker_id && !n.workers.includes(d.worker_id)) n.workers.push(d.worker_id);
    if (d.status) n.statuses.push(d.status);
  }
  for (const n of nodes.values()) {
    n.worker = n.workers.length ? n.workers.join(', ') : null;
    n.status = n.statuses.find((st) => st !== 'running') ?? n.statuses[0] ?? null;
    delete n.workers;
    delete n.statuses;
  }
  const edges = [];
  for (const r of group.routes ?? []) {
    add(r.from_pipeline);
    add(r.to_pipeline);
    edges.push({ from: r.from_pipeline, to: r.to_pipeline, label: (r.event_types ?? []).join(', ') || '*' });
  }
  // "_external" first, then the pipelines in the order the group lists them.
  const list = [...nodes.values()].sort((a, b) => (a.id === EXTERNAL ? -1 : b.id === EXTERNAL ? 1 : 0));
  return { nodes: list, edges };
}

/**
 * Places the nodes: returns {positions: Map(id → {layer, order, x, y}), width, height, back: Set of edge indexes that
 * close a cycle}. Deterministic: ties keep the nodes' given order.
 */
export function layoutGraph(nodes, edges) {
  const ids = nodes.map((n) => n.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const out = new Map(ids.map((id) => [id, []]));
  edges.forEach((e, i) => out.get(e.from)?.push({ to: e.to, i }));

  // Edges that close a cycle (found by a depth-first search in the given order) are left out of the layering.
  const back = new Set();
  const state = new Map();
  const visit = (id) => {
    state.set(id, 1);
    for (const { to, i } of out.get(id) ?? []) {
      if (!index.has(to)) continue;
      if (state.get(to) === 1) back.add(i);
      else if (!state.has(to)) visit(to);
    }
    state.set(id, 2);
  };
  for (const id of ids) if (!state.has(id)) visit(id);

  // Longest path from a source, over the forward edges (repeated relaxation: groups are small).
  const layer = new Map(ids.map((id) => [id, 0]));
  for (let pass = 0; pass < ids.length; pass += 1) {
    let changed = false;
    edges.forEach((e, i) => {
      if (back.has(i) || !index.has(e.from) || !index.has(e.to) || e.from === e.to) return;
      const want = layer.get(e.from) + 1;
      if (layer.get(e.to) < want) {
        layer.set(e.to, want);
        changed = true;
      }
    });
    if (!changed) break;
  }

  // Order within each layer by the mean order of the predecessors in earlier layers (barycenter, one sweep).
  const layers = [];
  for (const id of ids) (layers[layer.get(id)] ??= []).push(id);
  const order = new Map();
  layers.forEach((members, l) => {
    const keyed = members.map((id) => {
      const preds = edges.filter((e, i) => !back.has(i) && e.to === id && order.has(e.from) && layer.get(e.from) < l)
        .map((e) => order.get(e.from));
      const bary = preds.length ? preds.reduce((a, b) => a + b, 0) / preds.length : Number.POSITIVE_INFINITY;
      return { id, bary, given: index.get(id) };
    });
    keyed.sort((a, b) => (a.bary === b.bary ? a.given - b.given : a.bary - b.bary));
    keyed.forEach((k, i) => order.set(k.id, i));
  });

  const tallest = Math.max(1, ...layers.map((m) => m?.length ?? 0));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  const positions = new Map();
  for (const id of ids) {
    const l = layer.get(id);
    const o = order.get(id);
    const count = layers[l].length;
    // Each layer is centred vertically.
    const top = (height - (count * NODE_H + (count - 1) * GAP_Y)) / 2;
    positions.set(id, { layer: l, order: o, x: PAD + l * (NODE_W + GAP_X), y: top + o * (NODE_H + GAP_Y) });
  }
  const width = PAD * 2 + layers.length * NODE_W + Math.max(0, layers.length - 1) * GAP_X;
  return { positions, width, height, back };
}

function shorten(text) {
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

/** The SVG of a group's routes; every node and edge carries data-* attributes naming what it shows. */
export function renderGraph(group) {
  const { nodes, edges } = groupGraph(group);
  const { positions, width, height, back } = layoutGraph(nodes, edges);
  const description = edges.length
    ? edges.map((e) => `${e.from} to ${e.to} (${e.label})`).join('; ')
    : 'no routes';
  const svg = s('svg', {
    class: 'graph', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': `Routes of group ${group.name}: ${description}`,
  });
  const arrow = nextId('arrow');
  svg.append(s('defs', null,
    s('marker', { id: arrow, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'graph-arrow' }))));

  edges.forEach((e, i) => {
    const a = positions.get(e.from);
    const b = positions.get(e.to);
    if (!a || !b) return;
    let d;
    let lx;
    let ly;
    if (e.from === e.to) {
      // A route from a pipeline to itself: a loop above the node.
      const x = a.x + NODE_W / 2;
      d = `M ${x - 20} ${a.y} C ${x - 40} ${a.y - 40}, ${x + 40} ${a.y - 40}, ${x + 20} ${a.y}`;
      lx = x;
      ly = a.y - 34;
    } else if (back.has(i) || b.layer <= a.layer) {
      // Backwards: below both nodes, from the bottom of one to the bottom of the other.
      const x1 = a.x + NODE_W / 2;
      const x2 = b.x + NODE_W / 2;
      const y = Math.max(a.y, b.y) + NODE_H;
      d = `M ${x1} ${a.y + NODE_H} C ${x1} ${y + 50}, ${x2} ${y + 50}, ${x2} ${b.y + NODE_H}`;
      lx = (x1 + x2) / 2;
      ly = y + 40;
    } else {
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2;
      const x2 = b.x;
      const y2 = b.y + NODE_H / 2;
      const mid = (x1 + x2) / 2;
      d = `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`;
      lx = mid;
      ly = (y1 + y2) / 2 - 6;
    }
    svg.append(s('g', { class: 'graph-edge', 'data-from': e.from, 'data-to': e.to },
      s('path', { d, class: 'graph-edge-line', 'marker-end': `url(#${arrow})` }),
      s('text', { x: lx, y: ly, class: 'graph-edge-label', 'text-anchor': 'middle' }, shorten(e.label))));
  });

  for (const n of nodes) {
    const p = positions.get(n.id);
    const external = n.id === EXTERNAL;
    const sub = external ? 'injected events' : n.worker ? `on ${n.worker}` : 'not placed';
    svg.append(s('g', {
      class: `graph-node${external ? ' graph-external' : ''}${n.status && n.status !== 'running' ? ' graph-node-warn' : ''}`,
      'data-name': n.id, 'data-worker': n.worker ?? '', transform: `translate(${p.x} ${p.y})`,
    },
      s('title', null, external ? 'Events injected into the group' : `${n.id}${n.worker ? ` on ${n.worker}` : ''}${n.status ? ` (${n.status})` : ''}`),
      s('rect', { width: NODE_W, height: NODE_H, rx: 6, class: 'graph-box' }),
      s('text', { x: 10, y: 20, class: 'graph-name' }, shorten(n.id)),
      s('text', { x: 10, y: 38, class: 'graph-worker' }, shorten(sub))));
  }
  return svg;
}

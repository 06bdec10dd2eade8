// Small DOM and formatting helpers shared by the pages (no framework: the UI is plain modules served as is).

const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'textContent']);

function applyAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function appendChildren(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Creates an HTML element: h('button', {class: 'primary', onclick: f}, 'Deploy'). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

/** Creates an SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  applyAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

/** Replaces the children of an element. */
export function replace(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
  return el;
}

let uid = 0;

/** A document-unique id for label/aria wiring. */
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Reads a screen-reader announcement (the polite live region of the page). */
export function announce(text) {
  const region = document.getElementById('announcer');
  region.textContent = '';
  // A new text node after a tick so repeated identical messages are read again.
  setTimeout(() => { region.textContent = text; }, 30);
}

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const fine = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });

export function fmtInt(n) {
  return n === undefined || n === null ? '–' : integer.format(n);
}

export function fmtRate(n) {
  if (n === undefined || n === null) return '–';
  if (n >= 100) return integer.format(n);
  return n >= 10 ? decimal.format(n) : fine.format(n);
}

/** Microseconds as µs, ms or s. */
export function fmtMicros(us) {
  if (us === undefined || us === null) return '–';
  if (us < 1000) return `${decimal.format(us)} µs`;
  if (us < 1_000_000) return `${decimal.format(us / 1000)} ms`;
  return `${decimal.format(us / 1_000_000)} s`;
}

export function fmtUptime(secs) {
  if (secs === undefined || secs === null) return '–';
  if (secs < 60) return `${secs} s`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min ${secs % 60} s`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h ${Math.floor((secs % 3600) / 60)} min`;
  return `${Math.floor(secs / 86400)} d ${Math.floor((secs % 86400) / 3600)} h`;
}

/** The wall-clock time of day, for "updated at" labels. */
export function clock(date = new Date()) {
  return date.toLocaleTimeString('en-GB', { hour12: false });
}

/** A compact JSON rendering of a field map: {user: "alice", amount: 42}. */
export function fields(obj) {
  if (!obj || typeof obj !== 'object') return '';
  return Object.entries(obj).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ');
}

/** "1 event", "3 events" (thousands separated). */
export function plural(n, word) {
  return `${fmtInt(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** A status badge. */
export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind ?? text}` }, text);
}

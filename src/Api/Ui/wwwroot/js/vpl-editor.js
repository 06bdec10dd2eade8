// The VPL editor: a textarea over a highlighted copy of its text (same font and metrics, the textarea's own text is
// transparent), a line-number gutter, and the server's diagnostics drawn in place: a wavy underline at line:column,
// a marker in the gutter and the message at the end of the line. The accessible list of diagnostics is the page's.

import { h } from './dom.js';

const KEYWORDS = new Set([
  'event', 'stream', 'pattern', 'connector', 'const', 'let', 'var', 'fn', 'context', 'for', 'import', 'extends', 'as',
  'all', 'where', 'within', 'partition', 'by', 'in', 'not', 'and', 'or', 'is', 'if', 'then', 'else', 'elif', 'true',
  'false', 'null', 'return', 'break', 'continue', 'while', 'emit', 'SEQ', 'AND', 'OR', 'NOT',
]);

// Token classes, indexes into CLASS_NAMES.
const PLAIN = 0;
const KEYWORD = 1;
const TYPE = 2;
const OPERATOR = 3;
const FUNCTION = 4;
const STRING = 5;
const NUMBER = 6;
const DURATION = 7;
const TIMESTAMP = 8;
const COMMENT = 9;
const PUNCT = 10;
const CLASS_NAMES = ['', 'tk-kw', 'tk-type', 'tk-op', 'tk-fn', 'tk-str', 'tk-num', 'tk-dur', 'tk-ts', 'tk-com', 'tk-punct'];

const DIAG_ERROR = 1;
const DIAG_WARNING = 2;
const DIAG_INFO = 4;

// One alternative per token kind (vpl.md §1), tried at each position with the sticky flag.
const TOKEN = new RegExp([
  /(#[^\n]*)/.source,
  /(\/\*[\s\S]*?(?:\*\/|$))/.source,
  /("(?:[^"\\\n]|\\.)*"?)/.source,
  /(@\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)/.source,
  /(\d+(?:ns|us|ms|s|m|h|d)(?![A-Za-z0-9_]))/.source,
  /(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.source,
  /([A-Za-z_][A-Za-z0-9_]*)/.source,
  /(->|=>|\?\?|\?\.|\.\.=?|[=!<>]=|\*\*|:=|[-+*/%<>=!.,:;()[\]{}?])/.source,
].join('|'), 'y');

/** Classifies every character of a VPL text (a Uint8Array of token classes). */
export function classify(text) {
  const classes = new Uint8Array(text.length);
  let i = 0;
  let prev = ''; // the previous significant token's text
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i += 1;
      continue;
    }
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(text);
    if (!m || m[0].length === 0) {
      i += 1;
      continue;
    }
    let kind = PUNCT;
    if (m[1] !== undefined || m[2] !== undefined) kind = COMMENT;
    else if (m[3] !== undefined) kind = STRING;
    else if (m[4] !== undefined) kind = TIMESTAMP;
    else if (m[5] !== undefined) kind = DURATION;
    else if (m[6] !== undefined) kind = NUMBER;
    else if (m[7] !== undefined) {
      const word = m[7];
      const next = text.slice(i + word.length).match(/^\s*\(/);
      if (prev === '.' && next) kind = OPERATOR;
      else if (KEYWORDS.has(word)) kind = KEYWORD;
      else if (next) kind = FUNCTION;
      else if (/^[A-Z]/.test(word)) kind = TYPE;
      else kind = PLAIN;
    }
    classes.fill(kind, i, i + m[0].length);
    if (kind !== COMMENT) prev = m[0];
    i += m[0].length;
  }
  return classes;
}

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
}

function severityFlag(severity) {
  if (severity === 'error') return DIAG_ERROR;
  if (severity === 'warning') return DIAG_WARNING;
  return DIAG_INFO;
}

/** The most severe of the flags, by name. */
function severityOf(flag) {
  if (flag & DIAG_ERROR) return 'error';
  if (flag & DIAG_WARNING) return 'warning';
  return 'info';
}

function flagClass(flag) {
  return `diag-${severityOf(flag)}`;
}

const WORD = /[A-Za-z0-9_]/;

/**
 * Where a diagnostic's underline goes: from its 1-based line and column over the word there (or one character); at
 * the end of a line it marks the line end. Returns {line (0-based), start, end} as offsets into that line.
 */
export function diagnosticRange(lines, diag) {
  const line = Math.min(Math.max(diag.line, 1), lines.length) - 1;
  const text = lines[line];
  const start = Math.min(Math.max(diag.column - 1, 0), text.length);
  let end = start;
  if (start < text.length && WORD.test(text[start])) {
    while (end < text.length && WORD.test(text[end])) end += 1;
  } else if (start < text.length) {
    end = start + 1;
  }
  return { line, start, end };
}

/** The highlighted HTML of the text, with diagnostics drawn in; also the per-line diagnostic flags for the gutter. */
export function render(text, diagnostics) {
  const lines = text.split('\n');
  const classes = text.length <= 400_000 ? classify(text) : new Uint8Array(text.length);
  const marks = lines.map(() => []);
  const lineFlags = new Uint8Array(lines.length);
  const lens = new Array(lines.length).fill(null);
  for (const d of diagnostics) {
    const r = diagnosticRange(lines, d);
    const flag = severityFlag(d.severity);
    marks[r.line].push({ ...r, flag });
    lineFlags[r.line] |= flag;
    // The most severe message of the line is written after it.
    if (!lens[r.line] || flag < lens[r.line].flag) lens[r.line] = { flag, message: d.message };
  }
  const out = [];
  let offset = 0;
  for (let l = 0; l < lines.length; l++) {
    const lineText = lines[l];
    const diagAt = new Uint8Array(lineText.length);
    let eol = 0;
    for (const m of marks[l]) {
      if (m.end > m.start) diagAt.fill(m.flag, m.start, m.end);
      else eol |= m.flag;
    }
    let html = '';
    let runStart = 0;
    for (let i = 1; i <= lineText.length; i++) {
      if (i === lineText.length || classes[offset + i] !== classes[offset + runStart] || diagAt[i] !== diagAt[runStart]) {
        const piece = escapeHtml(lineText.slice(runStart, i));
        const cls = [CLASS_NAMES[classes[offset + runStart]], diagAt[runStart] ? flagClass(diagAt[runStart]) : ''].filter(Boolean).join(' ');
        html += cls ? `<span class="${cls}">${piece}</span>` : piece;
        runStart = i;
      }
    }
    if (eol) html += `<span class="diag-eol ${flagClass(eol)}"> </span>`;
    if (lens[l]) html += `<span class="lens ${flagClass(lens[l].flag)}">   ${escapeHtml(lens[l].message)}</span>`;
    out.push(html);
    offset += lineText.length + 1;
  }
  // A trailing newline in a textarea still shows an empty last line: keep the copy the same height.
  return { html: `${out.join('\n')}\n `, lineFlags, lineCount: lines.length };
}

/**
 * The editor widget. options: {id, label (accessible name), describedBy, value, onInput(text), onSubmit()}.
 * Keys: Tab indents and Shift+Tab dedents; Escape then Tab leaves the editor; Ctrl+Enter submits.
 */
export class VplEditor {
  constructor({ id, value = '', describedBy, onInput, onSubmit }) {
    this.diagnostics = [];
    this.onInput = onInput;
    this.onSubmit = onSubmit;
    this.tabLeaves = false;
    this.gutter = h('div', { class: 'editor-gutter', 'aria-hidden': 'true' });
    this.code = h('code');
    this.highlight = h('pre', { class: 'editor-highlight', 'aria-hidden': 'true' }, this.code);
    this.textarea = h('textarea', {
      id,
      class: 'editor-input',
      spellcheck: 'false',
      autocapitalize: 'off',
      autocomplete: 'off',
      wrap: 'off',
      'aria-describedby': describedBy,
      'data-testid': 'vpl-source',
    });
    this.textarea.value = value;
    this.element = h('div', { class: 'editor' }, this.gutter, h('div', { class: 'editor-code' }, this.highlight, this.textarea));
    this.textarea.addEventListener('input', () => {
      this.refresh();
      this.onInput?.(this.value);
    });
    this.textarea.addEventListener('scroll', () => this.syncScroll());
    this.textarea.addEventListener('keydown', (e) => this.keydown(e));
    this.refresh();
  }

  get value() {
    return this.textarea.value;
  }

  set value(text) {
    this.textarea.value = text;
    this.refresh();
    this.onInput?.(text);
  }

  setDiagnostics(diagnostics) {
    this.diagnostics = diagnostics;
    this.refresh();
  }

  refresh() {
    const { html, lineFlags, lineCount } = render(this.textarea.value, this.diagnostics);
    this.code.innerHTML = html;
    const rows = [];
    for (let i = 0; i < lineCount; i++) {
      const flag = lineFlags[i];
      const cls = flag ? `gutter-line gutter-${severityOf(flag)}` : 'gutter-line';
      rows.push(`<div class="${cls}" data-line="${i + 1}">${i + 1}</div>`);
    }
    this.gutter.innerHTML = rows.join('');
    this.syncScroll();
  }

  syncScroll() {
    this.highlight.scrollTop = this.textarea.scrollTop;
    this.highlight.scrollLeft = this.textarea.scrollLeft;
    this.gutter.scrollTop = this.textarea.scrollTop;
  }

  /** Puts the caret at a 1-based line and column and focuses the editor. */
  focusAt(line, column) {
    const lines = this.textarea.value.split('\n');
    const l = Math.min(Math.max(line, 1), lines.length);
    let offset = 0;
    for (let i = 0; i < l - 1; i++) offset += lines[i].length + 1;
    offset += Math.min(Math.max(column - 1, 0), lines[l - 1].length);
    this.textarea.focus();
    this.textarea.setSelectionRange(offset, offset);
    const lineHeight = parseFloat(getComputedStyle(this.textarea).lineHeight) || 20;
    const top = (l - 1) * lineHeight;
    if (top < this.textarea.scrollTop || top > this.textarea.scrollTop + this.textarea.clientHeight - lineHeight * 2) {
      this.textarea.scrollTop = Math.max(0, top - this.textarea.clientHeight / 2);
    }
  }

  insert(text) {
    // execCommand keeps the browser's undo history; setRangeText is the fallback.
    if (!document.execCommand('insertText', false, text)) {
      this.textarea.setRangeText(text, this.textarea.selectionStart, this.textarea.selectionEnd, 'end');
      this.textarea.dispatchEvent(new Event('input'));
    }
  }

  keydown(e) {
    const ta = this.textarea;
    if (e.key === 'Escape') {
      this.tabLeaves = true;
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      this.onSubmit?.();
      return;
    }
    if (e.key === 'Tab' && !this.tabLeaves && !e.ctrlKey && !e.altKey) {
      e.preventDefault();
      const lineStart = ta.value.lastIndexOf('\n', ta.selectionStart - 1) + 1;
      if (e.shiftKey) {
        const indent = ta.value.slice(lineStart).match(/^ {1,4}/);
        if (indent) {
          const caret = ta.selectionStart;
          ta.setSelectionRange(lineStart, lineStart + indent[0].length);
          this.insert('');
          const back = Math.max(lineStart, caret - indent[0].length);
          ta.setSelectionRange(back, back);
        }
      } else {
        this.insert(' '.repeat(4 - ((ta.selectionStart - lineStart) % 4)));
      }
      return;
    }
    this.tabLeaves = false;
    if (e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.metaKey) {
      // Keep the indentation of the current line.
      const lineStart = ta.value.lastIndexOf('\n', ta.selectionStart - 1) + 1;
      const indent = ta.value.slice(lineStart).match(/^[ \t]*/)[0];
      if (indent) {
        e.preventDefault();
        this.insert(`\n${indent}`);
      }
    }
  }
}

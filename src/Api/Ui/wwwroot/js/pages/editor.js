// New pipeline (deploy) and edit pipeline (hot reload): the VPL editor with the server's diagnostics as the user
// types (POST /api/v1/validate), and a deploy/reload that only goes out once the program compiles.

import { api, ApiError, isAbort } from '../api.js';
import { announce, h, plural, replace } from '../dom.js';
import { confirmAction, reportError } from '../shell.js';
import { VplEditor } from '../vpl-editor.js';

export const EXAMPLES = [
  {
    name: 'Filter: high temperature alert',
    source: 'stream HighTemp = TempReading as t\n    .where(t.value > 100)\n    .emit(sensor: t.sensor, value: t.value)\n',
  },
  {
    name: 'Window: average per sensor and minute',
    source: 'stream AvgTemp = TempReading\n    .partition_by(sensor)\n    .window(1m)\n    .aggregate(avg_value: avg(value), readings: count())\n    .emit(sensor: sensor, avg_value: avg_value, readings: readings)\n',
  },
  {
    name: 'Pattern: login then purchase within 30 minutes',
    source: 'stream Fraud = Login as a -> Purchase where user == a.user as b\n    .within(30m)\n    .partition_by(user)\n    .emit(user: a.user, amount: b.amount)\n',
  },
];

const VALIDATE_DELAY_MS = 300;

export function summarize(diagnostics) {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  if (errors === 0 && warnings === 0) return 'No problems';
  return [errors && plural(errors, 'error'), warnings && plural(warnings, 'warning')].filter(Boolean).join(', ');
}

export function render(main, { id }, page) {
  const isNew = id === null;
  const title = h('h1', null, isNew ? 'New pipeline' : 'Edit pipeline');
  const status = h('span', { id: 'validation-status', class: 'validation-status', role: 'status' }, '');
  const diagList = h('ol', { id: 'diagnostics', class: 'diags', 'aria-label': 'Diagnostics' });
  const result = h('div', { id: 'form-result', class: 'form-result', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'submit-pipeline' }, isNew ? 'Deploy' : 'Reload');

  let latest = { source: null, valid: false, diagnostics: [] };
  let inflight = null;
  let timer = null;

  const editor = new VplEditor({
    id: 'vpl-source',
    describedBy: 'editor-help validation-status',
    onInput: () => schedule(),
    onSubmit: () => form.requestSubmit(),
  });

  function showDiagnostics(diagnostics) {
    editor.setDiagnostics(diagnostics);
    replace(diagList, diagnostics.map((d) => h('li', { class: `diag sev-${d.severity}`, 'data-line': d.line, 'data-column': d.column },
      h('button', { type: 'button', class: 'link', onclick: () => editor.focusAt(d.line, d.column) }, `Line ${d.line}, column ${d.column}`),
      ' ', h('span', { class: 'diag-severity' }, d.severity), ': ',
      h('span', { class: 'diag-message' }, d.message),
      d.hint ? h('span', { class: 'diag-hint' }, ` Hint: ${d.hint}`) : null)));
    status.textContent = summarize(diagnostics);
    status.className = `validation-status ${diagnostics.some((d) => d.severity === 'error') ? 'has-errors' : 'ok'}`;
  }

  async function validate() {
    const source = editor.value;
    if (latest.source === source) return latest;
    inflight?.abort();
    const controller = new AbortController();
    inflight = controller;
    page.signal.addEventListener('abort', () => controller.abort(), { once: true });
    status.textContent = 'Checking…';
    status.className = 'validation-status';
    const reply = await api('POST', '/api/v1/validate', { source }, { signal: controller.signal });
    latest = { source, valid: reply.valid, diagnostics: reply.diagnostics };
    if (editor.value === source) showDiagnostics(reply.diagnostics);
    return latest;
  }

  function schedule() {
    clearTimeout(timer);
    result.textContent = '';
    timer = setTimeout(() => validate().catch((e) => {
      if (!isAbort(e)) reportError(e);
    }), VALIDATE_DELAY_MS);
  }
  page.signal.addEventListener('abort', () => clearTimeout(timer));

  const name = isNew ? h('input', { id: 'pipeline-name', name: 'name', required: true, maxlength: 256, autocomplete: 'off', placeholder: 'fraud-detect' }) : null;
  const example = isNew ? h('select', { id: 'example' },
    h('option', { value: '' }, 'Choose an example…'),
    EXAMPLES.map((x, i) => h('option', { value: String(i) }, x.name))) : null;
  example?.addEventListener('change', async () => {
    const chosen = EXAMPLES[Number(example.value)];
    example.value = '';
    if (!chosen) return;
    if (editor.value.trim() && !EXAMPLES.some((x) => x.source === editor.value)
      && !(await confirmAction('Replace the program?', 'The editor has a program. Replace it with the example?', 'Replace'))) return;
    editor.value = chosen.source;
    editor.focusAt(1, 1);
  });

  async function onSubmit(ev) {
    ev.preventDefault();
    result.textContent = '';
    result.className = 'form-result';
    if (isNew && !name.value.trim()) {
      result.textContent = 'Enter a name for the pipeline.';
      result.className = 'form-result error-text';
      name.focus();
      return;
    }
    submit.disabled = true;
    try {
      clearTimeout(timer);
      const check = await validate();
      if (!check.valid) {
        const errors = check.diagnostics.filter((d) => d.severity === 'error');
        result.textContent = `Not ${isNew ? 'deployed' : 'reloaded'}: fix the ${plural(errors.length, 'error')} first.`;
        result.className = 'form-result error-text';
        announce(result.textContent);
        if (errors[0]) editor.focusAt(errors[0].line, errors[0].column);
        return;
      }
      if (isNew) {
        const created = await api('POST', '/api/v1/pipelines', { name: name.value.trim(), source: editor.value }, { signal: page.signal });
        announce(`Pipeline ${created.name} deployed`);
        location.hash = `#/pipelines/${encodeURIComponent(created.id)}`;
      } else {
        const r = await api('POST', `/api/v1/pipelines/${encodeURIComponent(id)}/reload`, { source: editor.value }, { signal: page.signal });
        const kept = r.kept_state.length ? r.kept_state.join(', ') : 'none';
        const reset = r.reset_state.length ? r.reset_state.join(', ') : 'none';
        result.textContent = `Reloaded. State kept: ${kept}. State reset: ${reset}.`;
        result.className = 'form-result ok-text';
        announce(result.textContent);
      }
    } catch (e) {
      if (isAbort(e)) return;
      if (e instanceof ApiError && e.code === 'parse_error' && e.body?.diagnostics) showDiagnostics(e.body.diagnostics);
      if (e instanceof ApiError && e.status !== 0 && e.status !== 401) {
        result.textContent = e.describe();
        result.className = 'form-result error-text';
      } else {
        reportError(e);
      }
    } finally {
      submit.disabled = false;
    }
  }

  const form = h('form', { id: 'pipeline-form', class: 'stack', onsubmit: onSubmit, novalidate: true },
    isNew ? h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'pipeline-name' }, 'Name'), name),
      h('div', { class: 'field' }, h('label', { for: 'example' }, 'Start from an example'), example)) : null,
    h('div', { class: 'editor-head' }, h('label', { for: 'vpl-source' }, 'VPL program'), status),
    editor.element,
    h('p', { id: 'editor-help', class: 'muted small' }, 'Checked by the server as you type. Tab indents; Escape then Tab leaves the editor; Ctrl+Enter ', isNew ? 'deploys' : 'reloads', '.'),
    h('section', { 'aria-labelledby': 'diag-title' }, h('h2', { id: 'diag-title', class: 'visually-hidden' }, 'Diagnostics'), diagList),
    h('div', { class: 'actions' }, submit,
      h('a', { class: 'button', href: isNew ? '#/pipelines' : `#/pipelines/${encodeURIComponent(id)}` }, isNew ? 'Cancel' : 'Back to pipeline')),
    result);

  document.title = `${isNew ? 'New pipeline' : 'Edit pipeline'} · Varpulis`;
  main.append(title, form);

  if (isNew) {
    name.focus();
    schedule();
    return;
  }
  submit.disabled = true;
  api('GET', `/api/v1/pipelines/${encodeURIComponent(id)}`, undefined, { signal: page.signal })
    .then((p) => {
      title.textContent = `Edit pipeline ${p.name}`;
      document.title = `Edit ${p.name} · Varpulis`;
      editor.value = p.source;
      submit.disabled = false;
    })
    .catch((e) => {
      if (isAbort(e)) return;
      if (e.status === 404) replace(main, h('h1', null, 'Pipeline not found'), h('p', null, e.message, '. ', h('a', { href: '#/pipelines' }, 'Back to pipelines')));
      else reportError(e);
    });
}

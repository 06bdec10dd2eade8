// Send events: a form (event type, event time, typed fields) or a JSON editor (one event, or a batch) posted to a
// pipeline, with the output events each request produced — the quickest way to try a rule.

import { api, ApiError, isAbort } from '../api.js';
import { announce, clock, fields, fmtInt, fmtMicros, h, nextId, plural, replace } from '../dom.js';
import { reportError } from '../shell.js';

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** The value of a form field: typed by the user's choice, or guessed ("auto"). Throws on an impossible value. */
export function fieldValue(text, type) {
  switch (type) {
    case 'text':
      return text;
    case 'number':
      if (!NUMBER.test(text.trim())) throw new Error(`“${text}” is not a number`);
      return Number(text);
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new Error(`“${text}” is not true or false`);
      return text === 'true';
    case 'json':
      try {
        return JSON.parse(text);
      } catch (e) {
        throw new Error(`“${text}” is not JSON: ${e.message}`);
      }
    default:
      if (text === 'true' || text === 'false') return text === 'true';
      if (text === 'null') return null;
      if (NUMBER.test(text.trim())) return Number(text);
      if (/^[[{"]/.test(text.trim())) {
        try {
          return JSON.parse(text);
        } catch {
          return text;
        }
      }
      return text;
  }
}

/** What a JSON text asks for: {batch: false, body: event} or {batch: true, body: {events}}. Throws with the reason. */
export function parseJsonInput(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`The JSON does not parse: ${e.message}`);
  }
  if (Array.isArray(value)) return { batch: true, body: { events: value } };
  if (value && typeof value === 'object' && Array.isArray(value.events)) return { batch: true, body: value };
  if (value && typeof value === 'object' && typeof value.event_type === 'string') return { batch: false, body: value };
  throw new Error('Send one event {"event_type": …, "fields": {…}}, an array of events, or {"events": […]}.');
}

function outputsTable(outputs, flat) {
  if (!outputs.length) return h('p', { class: 'muted' }, 'No output events.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data outputs' },
    h('caption', { class: 'visually-hidden' }, 'Output events'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Event time'), h('th', { scope: 'col' }, 'Fields'))),
    h('tbody', null, outputs.map((o) => {
      let data = o.fields;
      if (flat) {
        data = { ...o };
        delete data.event_type;
        delete data.timestamp;
      }
      return h('tr', { 'data-type': o.event_type },
        h('td', null, h('span', { class: 'type' }, o.event_type)),
        h('td', { class: 'mono nowrap' }, o.timestamp),
        h('td', { class: 'mono' }, fields(data)));
    }))));
}

export function render(main, { query }, page) {
  document.title = 'Send events · Varpulis';
  const pipeline = h('select', { id: 'send-pipeline', required: true });
  const modeForm = h('input', { type: 'radio', name: 'send-mode', id: 'mode-form', value: 'form', checked: true });
  const modeJson = h('input', { type: 'radio', name: 'send-mode', id: 'mode-json', value: 'json' });
  const eventType = h('input', { id: 'event-type', autocomplete: 'off', placeholder: 'TempReading' });
  const eventTime = h('input', { id: 'event-time', autocomplete: 'off', placeholder: 'server time', 'aria-describedby': 'event-time-help' });
  const fieldRows = h('tbody', { id: 'field-rows' });
  const json = h('textarea', { id: 'event-json', rows: 10, spellcheck: 'false', 'aria-describedby': 'event-json-help' });
  json.value = '{\n  "event_type": "TempReading",\n  "fields": {"sensor": "S1", "value": 101.5}\n}\n';
  const problem = h('p', { id: 'send-problem', class: 'error-text', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'send-button' }, 'Send');
  const results = h('ol', { id: 'send-results', class: 'results', 'aria-label': 'Sent requests and their outputs, newest first' });

  let rowCount = 0;
  function addField(name = '', value = '', type = 'auto') {
    rowCount += 1;
    const n = rowCount;
    const ids = { name: nextId('field-name'), value: nextId('field-value'), type: nextId('field-type') };
    const row = h('tr', { class: 'field-row' },
      h('td', null, h('label', { for: ids.name, class: 'visually-hidden' }, `Field ${n} name`),
        h('input', { id: ids.name, class: 'field-name', autocomplete: 'off', value: name })),
      h('td', null, h('label', { for: ids.value, class: 'visually-hidden' }, `Field ${n} value`),
        h('input', { id: ids.value, class: 'field-value', autocomplete: 'off', value })),
      h('td', null, h('label', { for: ids.type, class: 'visually-hidden' }, `Field ${n} type`),
        h('select', { id: ids.type, class: 'field-type' },
          [['auto', 'auto'], ['text', 'text'], ['number', 'number'], ['boolean', 'true/false'], ['json', 'JSON']].map(([v, label]) =>
            h('option', { value: v, selected: v === type }, label)))),
      h('td', null, h('button', { type: 'button', class: 'small', 'aria-label': `Remove field ${n}`, onclick: () => row.remove() }, 'Remove')));
    fieldRows.append(row);
    return row;
  }
  addField('sensor', 'S1');
  addField('value', '101.5');
  eventType.value = 'TempReading';

  const formPart = h('div', { id: 'form-part', class: 'stack' },
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'event-type' }, 'Event type'), eventType),
      h('div', { class: 'field' }, h('label', { for: 'event-time' }, 'Event time (RFC 3339, optional)'),
        h('div', { class: 'with-button' }, eventTime,
          h('button', { type: 'button', onclick: () => { eventTime.value = new Date().toISOString(); } }, 'Now')),
        h('span', { id: 'event-time-help', class: 'muted small' }, 'Empty: the server stamps the event when it arrives.'))),
    h('fieldset', null, h('legend', null, 'Fields'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'fields' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Remove')))),
        fieldRows)),
      h('button', { type: 'button', id: 'add-field', onclick: () => addField().querySelector('input').focus() }, 'Add field')));
  const jsonPart = h('div', { id: 'json-part', class: 'stack', hidden: true },
    h('label', { for: 'event-json' }, 'Event JSON'),
    json,
    h('p', { id: 'event-json-help', class: 'muted small' },
      'One event {"event_type", "fields", "timestamp"?}, or an array of events (or {"events": […]}) sent as one batch.'));

  const switchMode = () => {
    formPart.hidden = !modeForm.checked;
    jsonPart.hidden = modeForm.checked;
  };
  modeForm.addEventListener('change', switchMode);
  modeJson.addEventListener('change', switchMode);

  function buildRequest() {
    if (modeJson.checked) return parseJsonInput(json.value);
    const type = eventType.value.trim();
    if (!type) throw new Error('Enter an event type.');
    const body = { event_type: type, fields: {} };
    for (const row of fieldRows.querySelectorAll('.field-row')) {
      const name = row.querySelector('.field-name').value.trim();
      const value = row.querySelector('.field-value').value;
      if (!name) {
        if (value) throw new Error('A field has a value but no name.');
        continue;
      }
      try {
        body.fields[name] = fieldValue(value, row.querySelector('.field-type').value);
      } catch (e) {
        throw new Error(`Field ${name}: ${e.message}.`);
      }
    }
    if (eventTime.value.trim()) body.timestamp = eventTime.value.trim();
    return { batch: false, body };
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    problem.hidden = true;
    if (!pipeline.value) {
      problem.textContent = 'Choose a pipeline.';
      problem.hidden = false;
      return;
    }
    let request;
    try {
      request = buildRequest();
    } catch (e) {
      problem.textContent = e.message;
      problem.hidden = false;
      return;
    }
    const target = pipeline.selectedOptions[0]?.textContent ?? pipeline.value;
    const path = `/api/v1/pipelines/${encodeURIComponent(pipeline.value)}/${request.batch ? 'events-batch' : 'events'}`;
    submit.disabled = true;
    const sentAt = clock();
    try {
      const reply = await api('POST', path, request.body, { signal: page.signal });
      const outputs = reply.output_events ?? [];
      const what = request.batch ? `batch of ${fmtInt(request.body.events.length)}` : request.body.event_type;
      const summary = `${sentAt} · ${what} → ${target}: ${plural(outputs.length, 'output event')}`;
      results.prepend(h('li', { class: 'result' },
        h('h3', null, summary),
        request.batch ? h('p', { class: 'small' },
          `Accepted ${fmtInt(reply.accepted)}, rejected ${fmtInt(reply.rejected)}, processed in ${fmtMicros(reply.processing_time_us)}.`) : null,
        request.batch && reply.errors.length ? h('ul', { class: 'errors' }, reply.errors.map((x) => h('li', { class: 'error-text' }, `Event ${x.index}: ${x.error}`))) : null,
        outputsTable(outputs, request.batch)));
      while (results.children.length > 50) results.lastElementChild.remove();
      announce(summary);
    } catch (e) {
      if (isAbort(e)) return;
      if (e instanceof ApiError && e.status !== 0 && e.status !== 401) {
        results.prepend(h('li', { class: 'result failed' }, h('h3', null, `${sentAt} · refused by ${target}`), h('p', { class: 'error-text' }, e.describe())));
        announce(`Refused: ${e.message}`);
      } else {
        reportError(e);
      }
    } finally {
      submit.disabled = false;
    }
  }

  const form = h('form', { id: 'send-form', class: 'stack card', onsubmit: onSubmit, novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'send-pipeline' }, 'Pipeline'), pipeline),
    h('fieldset', { class: 'modes' }, h('legend', null, 'Input'),
      h('label', { for: 'mode-form', class: 'inline' }, modeForm, ' Form'),
      h('label', { for: 'mode-json', class: 'inline' }, modeJson, ' JSON')),
    formPart,
    jsonPart,
    problem,
    h('div', { class: 'actions' }, submit));

  main.append(h('h1', null, 'Send events'), h('div', { class: 'split' },
    form,
    h('section', { class: 'card', 'aria-labelledby': 'results-title' }, h('h2', { id: 'results-title' }, 'Outputs'), results)));

  api('GET', '/api/v1/pipelines?limit=1000', undefined, { signal: page.signal })
    .then((list) => {
      if (!list.pipelines.length) {
        replace(pipeline, h('option', { value: '' }, 'No pipelines deployed'));
        problem.hidden = false;
        replace(problem, 'Deploy a pipeline first: ', h('a', { href: '#/pipelines/new' }, 'New pipeline'), '.');
        return;
      }
      replace(pipeline, list.pipelines.map((p) => h('option', { value: p.id }, p.name)));
      const wanted = query.get('pipeline');
      if (wanted && list.pipelines.some((p) => p.id === wanted)) pipeline.value = wanted;
    })
    .catch((e) => {
      if (!isAbort(e)) reportError(e);
    });
}

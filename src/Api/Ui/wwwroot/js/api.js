// The API client: every call carries the key in the x-api-key header (never in the URL); errors become ApiError with
// the server's {error, code}; a network failure marks the server unreachable until /health answers again.

const KEY_STORAGE = 'varpulis.apiKey';

/** What the node told us at start (/ui/config.json). */
export const node = { kind: 'server', authRequired: false, version: '', features: [] };

/** Events: 'unauthorized' (detail: ApiError), 'unreachable', 'reachable'. */
export const events = new EventTarget();

export const key = {
  get: () => sessionStorage.getItem(KEY_STORAGE),
  set: (value) => sessionStorage.setItem(KEY_STORAGE, value),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

/** An API failure: HTTP status (0 when the server could not be reached), the contract's code and message. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body ?? null;
  }

  /** "invalid API key (401 invalid_api_key)". */
  describe() {
    return this.status === 0 ? this.message : `${this.message} (${this.status} ${this.code})`;
  }
}

export function isAbort(e) {
  return e?.name === 'AbortError';
}

function headers(extra) {
  const h = { accept: 'application/json', ...extra };
  const k = key.get();
  if (k) h['x-api-key'] = k;
  return h;
}

let reachable = true;

function markUnreachable(error) {
  if (!reachable) return;
  reachable = false;
  events.dispatchEvent(new CustomEvent('unreachable', { detail: error }));
  const probe = async () => {
    try {
      const r = await fetch('/health', { cache: 'no-store' });
      if (r.ok) {
        reachable = true;
        events.dispatchEvent(new Event('reachable'));
        return;
      }
    } catch {
      // still down
    }
    setTimeout(probe, 2000);
  };
  setTimeout(probe, 2000);
}

async function send(method, path, { body, signal, extraHeaders } = {}) {
  const init = { method, headers: headers(extraHeaders), signal, cache: 'no-store' };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  try {
    return await fetch(path, init);
  } catch (e) {
    if (isAbort(e)) throw e;
    const err = new ApiError(0, 'unreachable', `Cannot reach the server at ${location.host}.`);
    markUnreachable(err);
    throw err;
  }
}

async function failure(resp) {
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const err = new ApiError(resp.status, body?.code ?? `http_${resp.status}`, body?.error ?? (resp.statusText || 'request failed'), body);
  if (resp.status === 401) events.dispatchEvent(new CustomEvent('unauthorized', { detail: err }));
  return err;
}

/** Calls the API and returns the reply's text as sent (for documents to keep byte for byte, like checkpoints). */
export async function apiText(method, path, body, options = {}) {
  const resp = await send(method, path, { ...options, body });
  if (!resp.ok) throw await failure(resp);
  return resp.text();
}

/** Calls the API and returns the parsed JSON reply; throws ApiError on any non-2xx answer. */
export async function api(method, path, body, options = {}) {
  const text = await apiText(method, path, body, options);
  return text ? JSON.parse(text) : null;
}

/** Loads /ui/config.json (open). */
export async function loadNodeConfig() {
  let resp;
  try {
    resp = await fetch('config.json', { cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'unreachable', `Cannot reach the server at ${location.host}.`);
  }
  if (!resp.ok) throw await failure(resp);
  const c = await resp.json();
  Object.assign(node, { kind: c.node, authRequired: c.auth_required, version: c.version, features: c.features });
  return node;
}

export function hasFeature(name) {
  return node.features.includes(name);
}

/**
 * Reads a Server-Sent Events stream with fetch (EventSource cannot send the key header). Calls onMessage(event, data)
 * for each message; resolves when the stream ends, rejects with ApiError on a refused request.
 */
export async function readEventStream(path, { signal, onOpen, onMessage }) {
  const resp = await send('GET', path, { signal, extraHeaders: { accept: 'text/event-stream' } });
  if (!resp.ok) throw await failure(resp);
  onOpen?.();
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let eventName = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') eventName = val;
        else if (field === 'data') data.push(val);
      }
      if (data.length) onMessage(eventName, data.join('\n'));
    }
  }
}

// The dashboard's only door to the collector: JSON calls of docs/api.md and the live feed.
//
// Live updates: an EventSource on /api/v1/events. Each `alarm` event makes the store re-read
// nodes and alarms (a cut changes node colours as well as alarms, and one read keeps both
// consistent); `status` events carry the header counts. While the feed is down the store polls
// every 5 s instead; while it is up it still re-reads every 15 s, so node changes that raise no
// alarm (a node seen for the first time) show up too.

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET or POST a JSON endpoint. Rejects with ApiError carrying the server's {"error"} text. */
export async function api(path, { method = 'GET', body, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(BASE + path, {
      method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `collector unreachable (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const msg = (data && data.error) || text.trim() || res.statusText;
    throw new ApiError(res.status, `${res.status}: ${msg}`);
  }
  return data;
}

export const nodePath = (id) => `/nodes/${encodeURIComponent(id)}`;

/** Shared live state: nodes, active alarms, services, status. Views subscribe to changes. */
export class Store {
  constructor() {
    this.nodes = [];
    this.byId = new Map();
    this.alarms = [];
    this.services = [];
    this.status = null;
    this.error = null;
    this.live = 'connecting';       // 'sse' | 'polling' | 'connecting'
    this.lastUpdate = 0;
    this.listeners = new Set();
    this.pending = null;
    this.pollTimer = null;
    this.es = null;
  }

  subscribe(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  emit(what) { for (const fn of this.listeners) fn(what); }

  start() {
    this.refresh();
    this.connect();
    this.schedulePoll();
  }

  /** Re-reads nodes, alarms and services; coalesces calls made while one is in flight. */
  refresh() {
    if (this.pending) { this.again = true; return this.pending; }
    this.pending = (async () => {
      try {
        const [n, a, s] = await Promise.all([
          api('/nodes'), api('/alarms?state=active'), api('/services').catch(() => ({ services: [] })),
        ]);
        this.nodes = n.nodes || [];
        this.byId = new Map(this.nodes.map((x) => [x.id, x]));
        this.alarms = a.alarms || [];
        this.services = s.services || [];
        this.error = null;
        this.lastUpdate = Date.now();
      } catch (e) {
        this.error = e.message;
      }
      this.emit('data');
    })().finally(() => {
      this.pending = null;
      if (this.again) { this.again = false; this.refresh(); }
    });
    return this.pending;
  }

  schedulePoll() {
    clearTimeout(this.pollTimer);
    const every = this.live === 'sse' ? 15000 : 5000;
    this.pollTimer = setTimeout(() => { this.refresh(); this.schedulePoll(); }, every);
  }

  setLive(mode) {
    if (this.live === mode) return;
    this.live = mode;
    this.schedulePoll();
    this.emit('live');
  }

  connect() {
    if (typeof EventSource === 'undefined') { this.setLive('polling'); return; }
    let es;
    try { es = new EventSource(`${BASE}/events`); } catch { this.setLive('polling'); return; }
    this.es = es;
    let debounce = null;
    es.onopen = () => this.setLive('sse');
    es.addEventListener('alarm', (ev) => {
      let msg = null;
      try { msg = JSON.parse(ev.data); } catch { /* ignore */ }
      if (msg) this.emit({ alarmEvent: msg });
      clearTimeout(debounce);
      debounce = setTimeout(() => this.refresh(), 150);
    });
    es.addEventListener('status', (ev) => {
      try { this.status = JSON.parse(ev.data); this.emit('status'); } catch { /* ignore */ }
    });
    es.onerror = () => {
      // The browser retries by itself while readyState is CONNECTING; poll meanwhile.
      this.setLive('polling');
      if (es.readyState === EventSource.CLOSED) {
        this.es = null;
        setTimeout(() => this.connect(), 10000);
      }
    };
  }
}

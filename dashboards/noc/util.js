// Small helpers shared by the views: HTML escaping, formatting of ages, rates and times, and
// the vocabulary (status and alarm-type labels) the NOC reads on screen.

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes any value for use in HTML text or a quoted attribute. */
export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]);
}

/** Tagged template that escapes every interpolation unless it is wrapped in raw(). */
export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v && v.__raw !== undefined) out += v.__raw;
    else if (Array.isArray(v)) out += v.map((x) => (x && x.__raw !== undefined ? x.__raw : esc(x))).join('');
    else out += esc(v);
    out += strings[i + 1];
  }
  return { __raw: out };
}

export const raw = (s) => ({ __raw: s });

/** "#/node/<id>" with the id percent-encoded, as the API's path segments are. */
export const nodeHref = (id) => `#/node/${encodeURIComponent(id)}`;
export const serviceHref = (name) => `#/service/${encodeURIComponent(name)}`;

/** The last path element of a node id: "jaipur/sanganer" -> "sanganer". */
export const shortName = (id) => String(id).split('/').pop();

export const STATUS_LABEL = {
  up: 'up', down: 'down (cut off)', degraded: 'degraded', silent: 'silent (agent not reporting)',
  unknown: 'unknown (no data yet)', flapping: 'flapping',
};
/** A glyph per status, so status is never carried by colour alone. */
export const STATUS_GLYPH = { up: '', down: '▼', degraded: '!', silent: '…', unknown: '?', flapping: '↕' };

export const TYPE_LABEL = {
  link_down: 'Link down', link_degraded: 'Link degraded', link_flapping: 'Link flapping',
  node_silent: 'Node silent', node_isolated: 'Node isolated', redundancy_lost: 'Redundancy lost',
  service_unreachable: 'Service unreachable', path_lost: 'Path lost',
};

/** "4s", "12m 03s", "3h 07m", "2d 4h" for a duration in ms. */
export function fmtAge(ms) {
  if (!(ms >= 0)) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Local wall-clock time of a Unix-ms timestamp, with the date when it is not today. */
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const now = new Date();
  const t = d.toLocaleTimeString('en-GB', { hour12: false });
  if (d.toDateString() === now.toDateString()) return t;
  return `${d.toISOString().slice(0, 10)} ${t}`;
}

/** Bits per second, human readable. */
export function fmtBps(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(v < 10 && i > 0 ? 2 : v < 100 && i > 0 ? 1 : 0)} ${units[i]}`;
}

export const fmtNum = (v, digits = 1) =>
  (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(digits));

/** A status pill: coloured, with the status in words. */
export function statusPill(status) {
  const s = status || 'unknown';
  // ifOperStatus names map onto the node/link colours; the words stay the device's own.
  const colour = { lowerlayerdown: 'down', notpresent: 'down', testing: 'degraded', dormant: 'unknown' }[s] || (s in STATUS_LABEL ? s : 'unknown');
  return html`<span class="pill st-${colour}" title="${STATUS_LABEL[s] || s}"><span class="glyph" aria-hidden="true">${STATUS_GLYPH[colour] || ''}</span>${s}</span>`;
}

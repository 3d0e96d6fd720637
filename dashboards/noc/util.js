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

/** What the NOC reads for each alarm type; the keys are the API's one spelling of the types
 * (docs/api.md, "Vocabulary"; collector/alarm/alarm.h), the same for live and stored alarms. */
export const TYPE_LABEL = {
  link_down: 'Link down', link_degraded: 'Link degraded', link_flapping: 'Link flapping',
  node_silent: 'Node silent', agent_down: 'Agent down', node_isolated: 'Node isolated', redundancy_lost: 'Redundancy lost',
  service_unreachable: 'Service unreachable', path_lost: 'Path lost', vc_quality: 'VC quality low',
  service_down: 'Service down', cert_expiring: 'Certificate expiring',
  camera_offline: 'Camera offline', recording_degraded: 'Recording degraded',
  device_replaced: 'Device replaced', contract_expiring: 'Contract expiring',
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

/** A number with its unit ("1.4 ms"), or a bare "—" when unknown. */
export const fmtUnit = (v, digits, unit) => {
  const t = fmtNum(v, digits);
  return t === '—' ? t : `${t} ${unit}`;
};

/** A status pill: coloured, with the status in words. */
export function statusPill(status) {
  const s = status || 'unknown';
  // ifOperStatus names map onto the node/link colours; the words stay the device's own.
  const colour = { lowerlayerdown: 'down', notpresent: 'down', testing: 'degraded', dormant: 'unknown' }[s] || (s in STATUS_LABEL ? s : 'unknown');
  return html`<span class="pill st-${colour}" title="${STATUS_LABEL[s] || s}"><span class="glyph" aria-hidden="true">${STATUS_GLYPH[colour] || ''}</span>${s}</span>`;
}

/** VC media verdict bands on the estimated MOS (ITU-T G.107 user satisfaction): 4.0 and up
 *  good, 3.6 to 4.0 some users dissatisfied (warn), below 3.6 many dissatisfied (bad). */
export const MOS_WARN = 4.0;
export const MOS_BAD = 3.6;
/** Figures older than this are the last word of an agent that stopped reporting, not "now". */
export const VC_STALE_MS = 60000;

/** The verdict of one VC capture (an API VcCapture): good, warn, bad, "no media" (no RTP stream
 *  in the last interval) or stale; with the status colour it borrows. */
export function vcVerdict(c, now = Date.now()) {
  if (!c || !c.time_ms || now - c.time_ms > VC_STALE_MS) return { word: 'stale', colour: 'silent', glyph: '…' };
  if (c.mos === null || c.mos === undefined || !c.streams) return { word: 'no media', colour: 'unknown', glyph: '?' };
  if (c.mos < MOS_BAD) return { word: 'bad', colour: 'down', glyph: '▼' };
  if (c.mos < MOS_WARN) return { word: 'warn', colour: 'degraded', glyph: '!' };
  return { word: 'good', colour: 'up', glyph: '' };
}

/** A verdict pill: coloured, with a glyph and the verdict in words. */
export function vcPill(c, now = Date.now()) {
  const v = vcVerdict(c, now);
  return html`<span class="pill vc-verdict st-${v.colour}" data-verdict="${v.word}" title="MOS bands: good >= ${MOS_WARN}, warn >= ${MOS_BAD}, bad below"><span class="glyph" aria-hidden="true">${v.glyph}</span>${v.word}</span>`;
}

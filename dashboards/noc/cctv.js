// The police video surveillance page (#/cctv?district=jaipur): one row per police station of the
// district with each camera up or down, from GET /api/v1/cctv (docs/api.md). A station with a
// camera or its NVR down is flagged in words as well as colour and links its alarms. The
// cameras are probed every probe interval, so the page reads the resource on entry, on a
// district change, on every live alarm update and every 5 s.

import { api } from './api.js';
import { html, raw, esc, nodeHref, fmtTime, fmtNum } from './util.js';

const REFRESH_MS = 5000;
const CAM_GLYPH = { up: '✓', down: '▼', unknown: '?' };

/** The district in the page's hash: #/cctv?district=jaipur ("" for every district). */
export function parseCctvHash(h) {
  return new URLSearchParams((h.split('?')[1]) || '').get('district') || '';
}

function camPill(c) {
  const st = c.state in CAM_GLYPH ? c.state : 'unknown';
  const ping = c.ping_loss_pct == null ? '' : c.ping_loss_pct >= 100 ? ', no ping answer' : `, ping ${fmtNum(c.ping_ms)} ms`;
  const tip = `${c.name} ${c.addr}: ${st}${c.rtsp_ms != null ? `, RTSP answer in ${fmtNum(c.rtsp_ms)} ms` : ''}${ping}${c.changed_ms ? `, since ${fmtTime(c.changed_ms)}` : ''}`;
  return html`<span class="pill st-${st}" data-camera="${c.name}" data-state="${st}" title="${tip}"><span class="glyph" aria-hidden="true">${CAM_GLYPH[st]}</span>${c.name} ${st}</span>`.__raw;
}

/** The station's NVR: its address and state (up, down or unknown), or a dash without one. */
function nvrCell(s) {
  if (!s.nvr) return '—';
  const st = s.nvr_state in CAM_GLYPH ? s.nvr_state : 'unknown';
  const tip = `NVR ${s.nvr}: ${st}${s.nvr_rtsp_ms != null ? `, RTSP answer in ${fmtNum(s.nvr_rtsp_ms)} ms` : ''}${st === 'down' ? ': nothing of the station is recorded' : ''}`;
  return html`<span class="mono">${s.nvr}</span> <span class="pill st-${st}" data-nvr-state="${st}" title="${tip}"><span class="glyph" aria-hidden="true">${CAM_GLYPH[st]}</span>NVR ${st}</span>`.__raw;
}

/** The station's recording stream to its NVR (topology `recording:`): ok, degraded or unknown with
 * its streams and loss, or a dash when it is not watched. */
function recCell(s) {
  const r = s.recording;
  if (!r) return '—';
  const st = r.state === 'ok' ? 'up' : r.state === 'degraded' ? 'down' : 'unknown';
  const figs = r.streams == null ? 'no figures' : `${fmtNum(r.streams)} stream${r.streams === 1 ? '' : 's'}${r.loss_pct != null ? `, ${fmtNum(r.loss_pct)}% loss` : ''}`;
  const tip = `recording stream to the NVR, watched on ${r.ifname}: ${r.state}${r.jitter_ms != null ? `, jitter ${fmtNum(r.jitter_ms)} ms` : ''}${r.last_ms ? `, at ${fmtTime(r.last_ms)}` : ''}`;
  return html`<span class="pill st-${st}" data-rec-state="${r.state}" title="${tip}"><span class="glyph" aria-hidden="true">${CAM_GLYPH[st]}</span>${r.state}</span> <span class="muted">${figs}</span>`.__raw;
}

/** The station's open alarms: cameras offline, NVR down (recording lost), recording degraded. */
function alarmCell(s) {
  const pills = [];
  if (s.alarm_id) pills.push(html`<span class="pill st-down" data-alarm="${s.alarm_id}">▼ camera offline · alarm ${s.alarm_id}</span>`.__raw);
  if (s.nvr_alarm_id) pills.push(html`<span class="pill st-down" data-alarm="${s.nvr_alarm_id}" data-nvr-alarm="${s.nvr_alarm_id}">▼ NVR down, recording lost · alarm ${s.nvr_alarm_id}</span>`.__raw);
  const rec = s.recording && s.recording.alarm_id;
  if (rec) pills.push(html`<span class="pill st-down" data-alarm="${rec}" data-rec-alarm="${rec}">▼ recording degraded · alarm ${rec}</span>`.__raw);
  return pills.length ? pills.join(' ') : 'none';
}

function row(s) {
  const flag = s.down || s.nvr_state === 'down' || (s.recording && s.recording.alarm_id) ? 'bad' : '';
  return html`<tr class="${flag}" data-station="${s.station}" data-down="${s.down}">
    <th scope="row">${s.station}</th>
    <td><a href="${nodeHref(s.node)}">${s.node}</a></td>
    <td class="num"><b>${s.up}</b> up · <b>${s.down}</b> down${s.unknown ? ` · ${s.unknown} unknown` : ''}</td>
    <td class="cams">${raw(s.cameras.map(camPill).join(' '))}</td>
    <td class="nvr">${raw(nvrCell(s))}</td>
    <td class="rec">${raw(recCell(s))}</td>
    <td>${raw(alarmCell(s))}</td></tr>`.__raw;
}

export class CctvPage {
  constructor(el, store, hash) {
    this.el = el;
    this.store = store;
    this.district = parseCctvHash(hash);
    this.data = null;
    this.error = null;
    el.innerHTML = '<div class="page cctv-page"></div>';
    this.timer = setInterval(() => this.load(), REFRESH_MS);
    this.load();
  }

  async load() {
    try {
      const q = this.district ? `?district=${encodeURIComponent(this.district)}` : '';
      this.data = await api(`/cctv${q}`);
      this.error = null;
    } catch (e) {
      this.error = e.message;
    }
    this.paint();
  }

  /** The store's live updates (an alarm raised or cleared): read the stations again. */
  render() {
    this.load();
  }

  districts() {
    const d = new Set(this.store.nodes.filter((n) => n.tier === 'district' || !String(n.id).includes('/'))
      .map((n) => String(n.id).split('/')[0]));
    if (this.district) d.add(this.district);
    d.delete('sdc');
    return [...d].sort();
  }

  paint() {
    const root = this.el.querySelector('.cctv-page');
    if (!root) return;
    const list = (this.data && this.data.stations) || [];
    const nDown = list.filter((s) => s.down).length;
    const head = ['Station', 'Node', 'Cameras', 'Camera state', 'NVR', 'Recording', 'Alarm'];
    root.innerHTML = html`
      <nav class="crumbs" aria-label="path"><a href="#/">Overview</a> › video surveillance${this.district ? ` › ${esc(this.district)}` : ''}</nav>
      <header class="page-head">
        <h1>Police video surveillance${this.district ? ` · ${this.district}` : ''}</h1>
        <span class="facts"><span><b data-k="stations">${list.length}</b> stations</span>
          <span class="${nDown ? 'warn' : ''}"><b data-k="stations-down">${nDown}</b> with a camera down</span></span>
      </header>
      <form class="filters" aria-label="filters" onsubmit="return false">
        <label>District <select id="cctv-district"><option value="">all</option>${raw(this.districts().map((d) => html`<option value="${d}" ${raw(d === this.district ? 'selected' : '')}>${d}</option>`.__raw).join(''))}</select></label>
      </form>
      ${this.error ? raw(html`<p class="error" role="alert">${this.error}</p>`.__raw) : ''}
      <section class="card full" aria-labelledby="h-cctv"><h2 id="h-cctv">Stations and cameras</h2>
        ${!this.data ? raw('<p class="muted">Loading…</p>') : list.length
          ? raw(`<table class="grid cctv"><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${list.map(row).join('')}</tbody></table>`)
          : raw('<p class="muted">No police station in this district.</p>')}
      </section>`.__raw;
    root.querySelector('#cctv-district').addEventListener('change', (ev) => {
      this.district = ev.target.value;
      history.replaceState(null, '', `#/cctv${this.district ? `?district=${encodeURIComponent(this.district)}` : ''}`);
      this.load();
    });
  }

  destroy() {
    clearInterval(this.timer);
  }
}

// The police video surveillance page (#/cctv?district=jaipur): one row per police station of the
// district with each camera up or down, from GET /api/v1/cctv (docs/api.md). A station with a
// camera down is flagged in words as well as colour and links its "camera offline" alarm. The
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

function row(s) {
  const flag = s.down ? 'bad' : '';
  return html`<tr class="${flag}" data-station="${s.station}" data-down="${s.down}">
    <th scope="row">${s.station}</th>
    <td><a href="${nodeHref(s.node)}">${s.node}</a></td>
    <td class="num"><b>${s.up}</b> up · <b>${s.down}</b> down${s.unknown ? ` · ${s.unknown} unknown` : ''}</td>
    <td class="cams">${raw(s.cameras.map(camPill).join(' '))}</td>
    <td class="mono">${s.nvr || '—'}</td>
    <td>${s.alarm_id ? raw(html`<span class="pill st-down" data-alarm="${s.alarm_id}">▼ camera offline · alarm ${s.alarm_id}</span>`.__raw) : 'none'}</td></tr>`.__raw;
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
    const head = ['Station', 'Node', 'Cameras', 'Camera state', 'NVR', 'Alarm'];
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

// The asset register page (#/assets): every polled device with what it reports (model, serial)
// joined to the operator's asset file (owner department, AMC vendor, contract and warranty ends),
// from GET /api/v1/assets (docs/api.md). Discrepancies (a device the file lacks, a file entry no
// device reports) and contracts ending within the register's warning time (30 days) are
// highlighted, with words as well as colour. Filters (district, "expiring") go to the server, so
// the CSV download link gives exactly the rows on screen. The register changes once a day per
// device, so the page reads it on entry, on a filter change and every 60 s, not with the live feed.

import { api } from './api.js';
import { html, raw, esc, nodeHref, fmtTime } from './util.js';

const REFRESH_MS = 60000;
const DAY_MS = 86400000;

/** The filters in the page's hash: #/assets?district=jaipur&expiring=1. */
export function parseAssetHash(h) {
  const q = new URLSearchParams((h.split('?')[1]) || '');
  return { district: q.get('district') || '', expiring: q.get('expiring') === '1' };
}

function hashOf(f) {
  const q = new URLSearchParams();
  if (f.district) q.set('district', f.district);
  if (f.expiring) q.set('expiring', '1');
  const s = q.toString();
  return `#/assets${s ? `?${s}` : ''}`;
}

/** The API query of the filters (the same for JSON and for the CSV link). */
function query(f, warnDays, format) {
  const q = new URLSearchParams();
  if (f.district) q.set('district', f.district);
  if (f.expiring) q.set('expiring_within', String(warnDays));
  if (format) q.set('format', format);
  const s = q.toString();
  return `/assets${s ? `?${s}` : ''}`;
}

/** A contract end date ("2025-03-31") as {text, cls}: how far off it is, flagged when near. */
function contractCell(end, warnDays, now) {
  if (!end) return { text: '—', cls: '', note: '' };
  // The contract covers its whole last day (UTC), as the collector judges it.
  const left = Date.parse(`${end}T00:00:00Z`) + DAY_MS - now;
  const days = Math.ceil(left / DAY_MS);
  if (left <= 0) return { text: end, cls: 'expired', note: `ended ${Math.floor(-left / DAY_MS)} d ago` };
  if (days <= warnDays) return { text: end, cls: 'expiring', note: `in ${days} d` };
  return { text: end, cls: '', note: '' };
}

const DISCREPANCY = {
  not_in_file: 'not in the asset file',
  not_reported: 'no device reports it',
};

function row(a, warnDays, now) {
  const e = a.entry || {};
  const amc = contractCell(e.amc_end, warnDays, now);
  const war = contractCell(a.warranty_end, warnDays, now);
  const district = a.node ? a.node.split('/')[0] : '';
  const repl = (a.replaced || [])[0];
  const flags = [a.discrepancy ? 'discrepancy' : '', amc.cls || war.cls ? 'contract-near' : ''].filter(Boolean).join(' ');
  const cell = (c) => html`<td class="date ${c.cls}">${c.text}${c.note ? raw(` <span class="note">(${esc(c.note)})</span>`) : ''}</td>`.__raw;
  return html`<tr class="${flags}" data-node="${a.node || ''}" data-device="${a.device || ''}" data-serial="${a.serial || ''}" data-discrepancy="${a.discrepancy || ''}">
    <td>${district}</td><td>${a.node ? raw(html`<a href="${nodeHref(a.node)}">${a.node}</a>`.__raw) : '—'}</td>
    <td class="mono">${a.device || '—'}</td><td>${a.model || '—'}</td><td class="mono">${a.serial || '—'}</td>
    <td>${e.department || '—'}</td><td>${e.amc_vendor || '—'}</td>${raw(cell(amc))}${raw(cell(war))}
    <td>${a.discrepancy ? raw(html`<span class="pill st-down">⚠ ${DISCREPANCY[a.discrepancy] || a.discrepancy}</span>`.__raw) : ''}${repl ? raw(html` <span class="pill st-degraded" title="replaced ${fmtTime(repl.at_ms)}">↻ replaced: ${repl.old_serial} → ${repl.new_serial}</span>`.__raw) : ''}</td>
    <td>${a.updated_ms ? fmtTime(a.updated_ms) : '—'}</td></tr>`.__raw;
}

export class AssetsPage {
  constructor(el, store, hash) {
    this.el = el;
    this.store = store;
    this.f = parseAssetHash(hash);
    this.data = null;
    this.error = null;
    this.warnDays = 30;
    el.innerHTML = '<div class="page assets-page"></div>';
    this.timer = setInterval(() => this.load(), REFRESH_MS);
    this.load();
  }

  async load() {
    try {
      this.data = await api(query(this.f, this.warnDays));
      this.warnDays = this.data.expiry_warn_days || this.warnDays;
      this.error = null;
    } catch (e) {
      this.error = e.message;
    }
    this.render();
  }

  /** Districts to choose from: the topology's, plus any the register names. */
  districts() {
    const d = new Set(this.store.nodes.map((n) => String(n.id).split('/')[0]));
    for (const a of (this.data && this.data.assets) || []) if (a.node) d.add(a.node.split('/')[0]);
    if (this.f.district) d.add(this.f.district);
    d.delete('sdc');
    return [...d].sort();
  }

  render() {
    const root = this.el.querySelector('.assets-page');
    if (!root) return;
    const focused = document.activeElement && document.activeElement.id;
    const now = Date.now();
    const list = (this.data && this.data.assets) || [];
    const nDisc = list.filter((a) => a.discrepancy).length;
    const nNear = list.filter((a) => (a.entry && contractCell(a.entry.amc_end, this.warnDays, now).cls) || contractCell(a.warranty_end, this.warnDays, now).cls).length;
    const head = ['District', 'Node', 'Device', 'Model', 'Serial', 'Owner department', 'AMC vendor', 'AMC end', 'Warranty end', 'Flags', 'Reported'];
    const csv = `/api/v1${query(this.f, this.warnDays, 'csv')}`;
    root.innerHTML = html`
      <nav class="crumbs" aria-label="path"><a href="#/">Overview</a> › assets</nav>
      <header class="page-head">
        <h1>Asset register</h1>
        <span class="facts"><span><b data-k="rows">${list.length}</b> rows</span>
          <span class="${nDisc ? 'warn' : ''}"><b data-k="discrepancies">${nDisc}</b> discrepancies</span>
          <span class="${nNear ? 'warn' : ''}"><b data-k="expiring">${nNear}</b> with a contract ending within ${this.warnDays} days</span></span>
      </header>
      <form class="filters" aria-label="filters" onsubmit="return false">
        <label>District <select id="asset-district"><option value="">all</option>${raw(this.districts().map((d) => html`<option value="${d}" ${raw(d === this.f.district ? 'selected' : '')}>${d}</option>`.__raw).join(''))}</select></label>
        <label><input type="checkbox" id="asset-expiring" ${raw(this.f.expiring ? 'checked' : '')}> only contracts ending within ${this.warnDays} days</label>
        <a class="csv" id="asset-csv" href="${csv}" download="assets.csv">Download CSV</a>
      </form>
      ${this.error ? raw(html`<p class="error" role="alert">${this.error}</p>`.__raw) : ''}
      <section class="card full" aria-labelledby="h-assets"><h2 id="h-assets">Devices and contracts</h2>
        ${!this.data ? raw('<p class="muted">Loading…</p>') : list.length
          ? raw(`<table class="grid assets"><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${list.map((a) => row(a, this.warnDays, now)).join('')}</tbody></table>`)
          : raw('<p class="muted">No asset matches.</p>')}
      </section>`.__raw;
    root.querySelector('#asset-district').addEventListener('change', (ev) => this.setFilter({ district: ev.target.value }));
    root.querySelector('#asset-expiring').addEventListener('change', (ev) => this.setFilter({ expiring: ev.target.checked }));
    if (focused && root.querySelector(`#${focused}`)) root.querySelector(`#${focused}`).focus();
  }

  setFilter(change) {
    this.f = { ...this.f, ...change };
    // replaceState: the hash follows the filters without re-running the router
    history.replaceState(null, '', hashOf(this.f));
    this.load();
  }

  destroy() {
    clearInterval(this.timer);
  }
}

// The state overview: one card per district (its HQ tile, then one tile per block), the state
// data centre on top, the services strip, and the active alarm list on the right. Sized for a
// 1920x1080 wall screen with 400+ nodes: tiles are built once per node list and then only have
// their status class and labels patched.

import { html, raw, nodeHref, serviceHref, shortName, STATUS_LABEL, STATUS_GLYPH } from './util.js';
import { AlarmList } from './alarms.js';

const ORDER = ['down', 'silent', 'degraded', 'unknown', 'up'];

function tileLabel(n) {
  const reach = Object.entries(n.reaches || {}).filter(([, ok]) => !ok).map(([s]) => s);
  return `${n.id}: ${STATUS_LABEL[n.status] || n.status}${reach.length ? `; cannot reach ${reach.join(', ')}` : ''}`;
}

function tileHtml(n, cls) {
  return html`<a class="tile ${cls} st-${n.status}" href="${nodeHref(n.id)}" data-node="${n.id}" data-status="${n.status}"
    title="${tileLabel(n)}" aria-label="${tileLabel(n)}"><span class="glyph" aria-hidden="true">${STATUS_GLYPH[n.status] || ''}</span><span class="name">${cls === 'block' ? shortName(n.id) : n.id}</span></a>`.__raw;
}

/** Districts in topology order, each with its HQ node and the nodes below it. */
function groups(nodes) {
  const out = new Map();
  const roots = [];
  for (const n of nodes) {
    const d = n.district || (n.tier === 'district' ? n.id : null);
    if (!d) { roots.push(n); continue; }
    if (!out.has(d)) out.set(d, { id: d, hq: null, members: [] });
    const g = out.get(d);
    if (n.id === d) g.hq = n; else g.members.push(n);
  }
  return { roots, districts: [...out.values()] };
}

export class Overview {
  constructor(el, store) {
    this.el = el;
    this.store = store;
    el.innerHTML = `
      <div class="overview">
        <section class="map" aria-label="State overview: every office by district">
          <div class="map-head">
            <h2>Offices by district</h2>
            <div class="legend" aria-label="legend">
              ${ORDER.map((s) => `<span class="lg"><span class="sw st-${s}" aria-hidden="true">${STATUS_GLYPH[s]}</span>${s}</span>`).join('')}
            </div>
          </div>
          <div class="toprow"><div class="core"></div><div class="services-strip" aria-label="Services"></div></div>
          <div class="districts"></div>
        </section>
        <section class="alarm-panel" aria-label="Active alarms">
          <div class="panel-head"><h2>Active alarms</h2><span class="alarm-count"></span></div>
          <div class="alarm-list" id="alarm-list" aria-live="polite"></div>
        </section>
      </div>`;
    this.core = el.querySelector('.core');
    this.districtsEl = el.querySelector('.districts');
    this.strip = el.querySelector('.services-strip');
    this.alarmCount = el.querySelector('.alarm-count');
    this.alarmList = new AlarmList(el.querySelector('.alarm-list'), store);
    this.shape = '';
    this.tiles = new Map();
  }

  build(nodes) {
    const { roots, districts } = groups(nodes);
    this.core.innerHTML = roots.map((n) => `<div class="core-card">${tileHtml(n, 'root')}<span class="core-note">${n.tier === 'sdc' ? 'State Data Centre' : n.tier}</span></div>`).join('');
    this.districtsEl.innerHTML = districts.map((g) => `
      <div class="district" data-district="${g.id}">
        <div class="dhead">${g.hq ? tileHtml(g.hq, 'hq') : `<span class="tile hq st-unknown">${g.id}</span>`}<span class="dcount"></span></div>
        <div class="blocks">${g.members.map((n) => tileHtml(n, 'block')).join('')}</div>
      </div>`).join('');
    this.tiles = new Map([...this.el.querySelectorAll('.tile[data-node]')].map((t) => [t.dataset.node, t]));
    // A small network gets big, fully named tiles; a state-sized one the dense wall layout.
    this.districtsEl.classList.toggle('roomy', nodes.length <= 120);
  }

  render() {
    const nodes = this.store.nodes;
    const shape = nodes.map((n) => n.id).join('\n');
    if (shape !== this.shape) { this.build(nodes); this.shape = shape; }
    for (const n of nodes) {
      const t = this.tiles.get(n.id);
      if (!t || t.dataset.status === n.status && t.title === tileLabel(n)) continue;
      t.classList.remove(...[...t.classList].filter((c) => c.startsWith('st-')));
      t.classList.add(`st-${n.status}`);
      t.dataset.status = n.status;
      t.title = tileLabel(n);
      t.setAttribute('aria-label', t.title);
      t.querySelector('.glyph').textContent = STATUS_GLYPH[n.status] || '';
    }
    for (const d of this.districtsEl.querySelectorAll('.district')) {
      const ts = [...d.querySelectorAll('.tile[data-node]')];
      const bad = ts.filter((t) => t.dataset.status !== 'up').length;
      const worst = ORDER.find((s) => ts.some((t) => t.dataset.status === s)) || 'unknown';
      d.dataset.worst = worst;
      d.querySelector('.dcount').textContent = bad ? `${bad}/${ts.length} not up` : `${ts.length} up`;
    }
    this.renderServices();
    this.alarmList.render();
    const roots = this.alarmList.cards.size;
    const unacked = [...this.alarmList.cards.values()].filter((c) => !c.classList.contains('acked')).length;
    this.alarmCount.textContent = roots ? `${roots} root${roots === 1 ? '' : 's'}, ${unacked} unacked` : '';
  }

  renderServices() {
    const svcs = this.store.services;
    this.strip.innerHTML = svcs.map((s) => {
      const n = (s.unreachable_from || []).length;
      return html`<a class="svc-chip ${n ? 'bad' : 'ok'}" href="${serviceHref(s.name)}" data-service="${s.name}"
        aria-label="${s.name}: ${n ? `unreachable from ${n} offices` : 'reachable from every office'}">
        <span class="svc-name">${s.name}</span><span class="svc-kind">${s.kind === 'vc' ? 'VC' : 'e-gov'}</span>
        <span class="svc-state">${n ? `✗ ${n} office${n === 1 ? '' : 's'} cut` : '✓ all offices'}</span></a>`.__raw;
    }).join('');
  }

  destroy() {}
}

export { raw };

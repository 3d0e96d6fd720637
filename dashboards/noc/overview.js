// The state overview: one card per district (its HQ tile, then one tile per block), the state
// data centre on top, the services strip, and the active alarm list on the right. Sized for a
// 1920x1080 wall screen with 400+ nodes: tiles are built once per node list and then only have
// their status class and labels patched. Past ROLLUP_AT nodes (the full state with its ~9,000
// villages) a tile per node is too many to draw or to read: each district becomes one row of
// counts (up, down, degraded, silent, unknown over its HQ, blocks and villages), which expands
// to its block tiles, each with its villages' count; a block's own page lists its villages.

import { html, raw, nodeHref, serviceHref, shortName, STATUS_LABEL, STATUS_GLYPH } from './util.js';
import { AlarmList } from './alarms.js';

const ORDER = ['down', 'silent', 'degraded', 'unknown', 'up'];
export const ROLLUP_AT = 1000;

/** Status counts of a list of nodes: { up, down, degraded, silent, unknown, total }. */
function countOf(list) {
  const c = { up: 0, down: 0, degraded: 0, silent: 0, unknown: 0, total: list.length };
  for (const n of list) c[n.status in c ? n.status : 'unknown']++;
  return c;
}

function countsHtml(c) {
  return ORDER.map((s) => `<span class="cnt st-${s}${c[s] ? '' : ' zero'}" data-count="${s}" title="${c[s]} ${s}">${STATUS_GLYPH[s] || ''}${c[s]} ${s}</span>`).join('');
}

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

  /** The rolled-up layout: a row per district with counts, expanding to its blocks. */
  buildRollup(roots, districts) {
    this.districtsEl.innerHTML = districts.map((g) => {
      const blocks = g.members.filter((n) => n.tier === 'block' || n.parent === g.id);
      return `
      <details class="district rollup" data-district="${g.id}">
        <summary class="dhead">${g.hq ? tileHtml(g.hq, 'hq') : `<span class="tile hq st-unknown">${g.id}</span>`}<span class="dcounts"></span><span class="dcount"></span></summary>
        <div class="blocks rollup-blocks">${blocks.map((n) => `<div class="rblock" data-block="${n.id}">${tileHtml(n, 'block')}<span class="vcount"></span></div>`).join('')}</div>
      </details>`;
    }).join('');
  }

  build(nodes) {
    const { roots, districts } = groups(nodes);
    this.rollup = nodes.length > ROLLUP_AT;
    this.districtsEl.classList.toggle('rollup', this.rollup);
    if (this.rollup) {
      this.core.innerHTML = roots.map((n) => `<div class="core-card">${tileHtml(n, 'root')}<span class="core-note">${n.tier === 'sdc' ? 'State Data Centre' : n.tier}</span></div>`).join('');
      this.buildRollup(roots, districts);
      this.groups = districts;
      this.tiles = new Map([...this.el.querySelectorAll('.tile[data-node]')].map((t) => [t.dataset.node, t]));
      this.districtsEl.classList.remove('roomy');
      return;
    }
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
    if (this.rollup) this.renderRollup(nodes);
    else for (const d of this.districtsEl.querySelectorAll('.district')) {
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

  /** Counts per district (every node in it) and per block (its villages and nodes below). */
  renderRollup(nodes) {
    const byDistrict = new Map(), byBlock = new Map();
    const live = new Map(nodes.map((n) => [n.id, n]));
    for (const g of this.groups) byDistrict.set(g.id, [g.hq, ...g.members].filter(Boolean).map((n) => live.get(n.id) || n));
    for (const n of nodes) {
      for (let p = n.parent && live.get(n.parent); p; p = p.parent && live.get(p.parent)) {
        if (p.tier === 'block') { if (!byBlock.has(p.id)) byBlock.set(p.id, []); byBlock.get(p.id).push(n); break; }
      }
    }
    for (const d of this.districtsEl.querySelectorAll('.district')) {
      const c = countOf(byDistrict.get(d.dataset.district) || []);
      d.dataset.worst = ORDER.find((s) => c[s]) || 'unknown';
      const counts = d.querySelector('.dcounts');
      const htmlNow = countsHtml(c);
      if (counts.innerHTML !== htmlNow) counts.innerHTML = htmlNow;
      const bad = c.total - c.up;
      d.querySelector('.dcount').textContent = bad ? `${bad}/${c.total} not up` : `${c.total} up`;
      d.setAttribute('aria-label', `${d.dataset.district}: ${c.total} offices, ${ORDER.map((s) => `${c[s]} ${s}`).join(', ')}`);
    }
    for (const b of this.districtsEl.querySelectorAll('.rblock')) {
      const c = countOf(byBlock.get(b.dataset.block) || []);
      const bad = c.total - c.up;
      b.dataset.worst = ORDER.find((s) => c[s]) || 'up';
      b.querySelector('.vcount').textContent = c.total ? (bad ? `${bad}/${c.total} villages not up` : `${c.total} villages up`) : '';
    }
  }

  renderServices() {
    const svcs = this.store.services;
    this.strip.innerHTML = svcs.map((s) => {
      const n = (s.unreachable_from || []).length;
      // No office checked it lately: nothing says it works (an older collector sends no state).
      const unknown = s.state === 'unknown' && !n;
      const down = s.state === 'down';
      const cls = down || n ? 'bad' : unknown ? 'unknown' : 'ok';
      const label = down ? `down at ${s.host}` : n ? `unreachable from ${n} offices`
        : unknown ? 'unknown: no office has checked it yet' : `reachable from the ${s.offices_checking ?? 'every'} offices that check it`;
      const shown = down ? `✗ down at ${s.host}` : n ? `✗ ${n} office${n === 1 ? '' : 's'} cut`
        : unknown ? '? no evidence' : `✓ ${s.offices_checking ?? 'all'} offices`;
      return html`<a class="svc-chip ${cls}" href="${serviceHref(s.name)}" data-service="${s.name}"
        aria-label="${s.name}: ${label}">
        <span class="svc-name">${s.name}</span><span class="svc-kind">${s.kind === 'vc' ? 'VC' : 'e-gov'}</span>
        <span class="svc-state">${shown}</span></a>`.__raw;
    }).join('');
  }

  destroy() {}
}

export { raw };

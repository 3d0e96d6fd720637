// The node page: what a NOC engineer needs while on the phone with an office or a vendor —
// status and path, uplinks (circuit, vendor, kind, bandwidth, SLA), interfaces with rates,
// traffic, RTT and service-probe graphs rendered by the collector, VC media quality per capture
// (MOS, loss, jitter, streams, TCP handshake time, with a verdict and the graphs), services the
// office reaches now, the offices below it, recent alarms and outages.

import { api, nodePath } from './api.js';
import { html, raw, esc, nodeHref, serviceHref, statusPill, fmtAge, fmtTime, fmtBps, fmtNum, fmtUnit, vcPill, vcVerdict, TYPE_LABEL } from './util.js';

function graphUrl(id, source, device, object, from = -3600, view = '') {
  const q = new URLSearchParams({ node: id, source });
  if (device) q.set('device', device);
  q.set('object', object);
  if (view) q.set('view', view);
  q.set('from', String(from));
  q.set('to', 'now');
  q.set('format', 'png');
  return `/api/v1/graph?${q}`;
}

function pathTo(store, id) {
  const out = [];
  let n = store.byId.get(id);
  while (n && out.length < 20) { out.unshift(n); n = n.parent ? store.byId.get(n.parent) : null; }
  return out;
}

/** The VC figure's views: graph source and view per button (docs/api.md, /api/v1/graph). */
const VC_VIEWS = [
  { key: 'mos', label: 'MOS', source: 'rtp', view: 'mos' },
  { key: 'loss', label: 'Loss %', source: 'rtp', view: 'loss' },
  { key: 'jitter', label: 'Jitter', source: 'rtp', view: 'jitter' },
  { key: 'handshake', label: 'TCP handshake', source: 'tcphs', view: 'handshake' },
];

/** Graph order and captions of the series in the graphs card (VC captures have their own). */
const GRAPH_KINDS = {
  if: { rank: 0, title: (g) => `Traffic ${g.device} ${g.object}` },
  icmp: { rank: 1, title: (g) => `RTT / loss to ${g.object}` },
  tcp: { rank: 2, title: (g) => `Service ${g.object}: TCP connect` },
  http: { rank: 3, title: (g) => `Service ${g.object}: HTTP time to first byte` },
};

function table(head, rows, empty, cls = '') {
  if (!rows.length) return `<p class="muted">${esc(empty)}</p>`;
  return `<table class="grid ${cls}"><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export class NodePage {
  constructor(el, store, id) {
    this.el = el;
    this.store = store;
    this.id = id;
    this.data = null;
    this.series = null;
    this.error = null;
    el.innerHTML = `<div class="page node-page"><p class="muted">Loading ${esc(id)}…</p></div>`;
    this.load();
    this.timer = setInterval(() => this.load(), 10000);
  }

  async load() {
    try {
      const [d, s] = await Promise.all([
        api(nodePath(this.id)),
        this.series ? Promise.resolve({ series: this.series }) : api(`/series?node=${encodeURIComponent(this.id)}`).catch(() => null),
      ]);
      this.data = d;
      this.series = s && s.series ? s.series : null;
      this.error = null;
    } catch (e) {
      this.error = e.message;
    }
    this.draw();
  }

  render() { /* live store update: the node is re-read on its own timer, children re-drawn */
    if (this.data) this.draw();
  }

  graphs(n) {
    const list = [];
    if (this.series && this.series.length) {
      for (const s of this.series) {
        if (!GRAPH_KINDS[s.source]) continue;
        list.push({ source: s.source, device: s.device || '', object: s.object });
      }
    } else {
      for (const i of n.interfaces || []) list.push({ source: 'if', device: i.device, object: i.ifname });
      for (const p of n.probes || []) list.push({ source: 'icmp', device: '', object: p.target });
    }
    list.sort((a, b) => GRAPH_KINDS[a.source].rank - GRAPH_KINDS[b.source].rank);
    return list;
  }

  draw() {
    const n = this.data;
    const page = this.el.querySelector('.node-page');
    if (!page) return;
    if (!n) {
      page.innerHTML = html`<h1>${this.id}</h1><p class="error" role="alert">Could not load this node: ${this.error || 'no data'}</p>`.__raw;
      this.topEl = null;
      return;
    }
    const live = this.store.byId.get(n.id) || {};
    const status = live.status || n.status;
    const reaches = live.reaches || n.reaches || {};
    const children = this.store.nodes.filter((c) => c.parent === n.id);
    const path = pathTo(this.store, n.id);

    const uplinks = (n.uplinks || []).map((l) => html`<tr data-circuit="${l.circuit}">
      <td class="mono">${l.circuit}</td><td>${l.vendor_name || l.vendor}</td><td>${l.kind}</td>
      <td class="num">${l.mbps}</td><td>${l.sla}</td><td>${l.role}</td>
      <td><a href="${nodeHref(l.remote_node || n.parent || '')}">${l.remote_node || n.parent || '—'}</a></td>
      <td>${statusPill(l.status)}</td></tr>`.__raw);

    const ifs = (n.interfaces || []).map((i) => {
      const util = i.speed_bps ? Math.max(i.in_bps || 0, i.out_bps || 0) / i.speed_bps * 100 : null;
      const oper = { 1: 'up', 2: 'down', 7: 'lowerlayerdown' }[i.oper] || (i.oper == null ? 'unknown' : String(i.oper));
      return html`<tr><td>${i.device}</td><td class="mono">${i.ifname}</td><td>${statusPill(oper)}</td>
        <td class="num">${fmtBps(i.in_bps)}</td><td class="num">${fmtBps(i.out_bps)}</td><td class="num">${fmtBps(i.speed_bps)}</td>
        <td class="num">${util === null ? '—' : `${util.toFixed(1)} %`}</td></tr>`.__raw;
    });

    const probes = (n.probes || []).map((p) => html`<tr class="${p.loss_pct >= 100 ? 'bad' : ''}"><td><a href="${nodeHref(p.target)}">${p.target}</a></td>
      <td class="num">${fmtNum(p.rtt_ms, 2)} ms</td><td class="num">${fmtNum(p.loss_pct, 0)} %</td><td class="num">${fmtNum(p.jitter_ms, 2)} ms</td>
      <td>${fmtTime(p.time_ms)}</td></tr>`.__raw);

    const svcNames = new Set([...Object.keys(reaches), ...this.store.services.map((s) => s.name)]);
    const svcs = [...svcNames].map((s) => {
      const ok = reaches[s];
      const why = (this.store.services.find((x) => x.name === s)?.unreachable_from || []).find((u) => u.node === n.id);
      return html`<li class="reach ${ok ? 'ok' : ok === false ? 'bad' : 'unk'}" data-service="${s}">
        <span class="mark" aria-hidden="true">${ok ? '✓' : ok === false ? '✗' : '?'}</span>
        <a href="${serviceHref(s)}">${s}</a> <span class="sr">${ok ? 'reachable' : ok === false ? 'not reachable' : 'unknown'}</span>
        ${why && why.reason ? html`<span class="muted">— ${why.reason}</span>` : ''}</li>`.__raw;
    });

    const alarms = (n.alarms || []).slice().sort((a, b) => (a.cleared_ms ? 1 : 0) - (b.cleared_ms ? 1 : 0) || b.raised_ms - a.raised_ms)
      .map((a) => html`<tr class="${a.cleared_ms ? 'cleared' : 'active'} sev${a.severity}" data-alarm-id="${a.id}">
        <td><span class="sev small s${a.severity}">S${a.severity}</span></td><td>${TYPE_LABEL[a.type] || a.type}</td>
        <td class="mono">${a.circuit || a.entity || ''}</td><td>${a.text}</td>
        <td>${a.root_id ? `symptom of #${a.root_id}` : 'root'}${a.planned ? ' · planned' : ''}</td>
        <td>${fmtTime(a.raised_ms)}</td>
        <td>${a.cleared_ms ? `cleared after ${fmtAge(a.cleared_ms - a.raised_ms)}` : raw(`<b class="active-tag">active</b> <span data-since="${a.raised_ms}">${fmtAge(Date.now() - a.raised_ms)}</span>`)}</td>
        <td>${a.acked_by ? `✔ ${a.acked_by}` : ''}</td></tr>`.__raw);

    const outages = (n.outages || []).map((o) => html`<tr data-outage-id="${o.id}"><td>${o.kind}</td><td class="mono">${o.circuit || o.entity}</td>
      <td>${o.vendor || ''}</td><td>${o.root_cause || ''}</td><td>${fmtTime(o.start_ms)}</td>
      <td>${o.end_ms ? fmtTime(o.end_ms) : raw('<b class="active-tag">ongoing</b>')}</td>
      <td class="num">${fmtAge((o.end_ms || Date.now()) - o.start_ms)}</td><td>${o.planned ? 'planned' : ''}</td></tr>`.__raw);

    this.syncGraphs(n);

    if (!this.topEl) {
      page.innerHTML = `<div class="node-top"></div>
        <section class="card full vc-card" aria-labelledby="h-vc"><h2 id="h-vc">VC media quality <span class="muted">(RTP seen on the wire by this office's agent)</span></h2><div class="vc-now"></div><div class="graphs vc-graphs"></div></section>
        <section class="card full graphs-card" aria-labelledby="h-gr"><h2 id="h-gr">Graphs <span class="muted">(last hour, rendered by the collector)</span></h2><div class="graphs main-graphs"></div></section>
        <div class="node-bottom cols"></div>`;
      this.topEl = page.querySelector('.node-top');
      this.bottomEl = page.querySelector('.node-bottom');
      this.vcEl = page.querySelector('.vc-now');
      this.vcGraphsEl = page.querySelector('.vc-graphs');
      this.graphsEl = page.querySelector('.main-graphs');
      this.graphKeys = '';
      this.vcKeys = null;
      this.syncGraphs(n);
    }
    this.drawVc(n);
    this.topEl.innerHTML = html`
      <nav class="crumbs" aria-label="path"><a href="#/">Overview</a>${raw(path.map((p) => ` › <a href="${esc(nodeHref(p.id))}">${esc(p.id)}</a>`).join(''))}</nav>
      <header class="page-head">
        <h1>${n.id}</h1> ${statusPill(status)}
        <span class="facts"><span>tier <b>${n.tier}</b></span>
          ${n.parent ? html`<span>parent <a href="${nodeHref(n.parent)}">${n.parent}</a></span>` : ''}
          <span>agent <b>${n.connected ? 'connected' : 'not connected'}</b></span>
          <span>last seen <b>${n.last_seen_ms ? `${fmtTime(n.last_seen_ms)}` : 'never'}</b>${n.last_seen_ms ? raw(` (<span data-since="${n.last_seen_ms}">${fmtAge(Date.now() - n.last_seen_ms)}</span> ago)`) : ''}</span></span>
        ${this.error ? html`<span class="error" role="alert">refresh failed: ${this.error}</span>` : ''}
      </header>
      <div class="cols">
        <section class="card wide" aria-labelledby="h-up"><h2 id="h-up">Uplinks</h2>
          ${raw(table(['Circuit', 'Vendor', 'Kind', 'Mbit/s', 'SLA', 'Role', 'Remote', 'Status'], uplinks, 'No uplinks (root of the network).', 'uplinks'))}</section>
        <section class="card" aria-labelledby="h-svc"><h2 id="h-svc">Services from this office now</h2>
          ${svcs.length ? raw(`<ul class="reach-list">${svcs.join('')}</ul>`) : raw('<p class="muted">No services defined.</p>')}</section>
        <section class="card wide" aria-labelledby="h-if"><h2 id="h-if">Interfaces</h2>
          ${raw(table(['Device', 'ifName', 'Oper', 'In', 'Out', 'Speed', 'Util'], ifs, 'No interface data yet.', 'ifs'))}</section>
        <section class="card" aria-labelledby="h-pr"><h2 id="h-pr">Probes</h2>
          ${raw(table(['Target', 'RTT', 'Loss', 'Jitter', 'At'], probes, 'No probe data yet.', 'probes'))}</section>
        ${children.length ? raw(`<section class="card full" aria-labelledby="h-ch"><h2 id="h-ch">Offices below</h2><div class="blocks inline">${children.map((c) => `<a class="tile block st-${esc(c.status)}" data-node="${esc(c.id)}" data-status="${esc(c.status)}" href="${esc(nodeHref(c.id))}" title="${esc(c.id)}: ${esc(c.status)}" aria-label="${esc(c.id)}: ${esc(c.status)}"><span class="name">${esc(c.id)}</span></a>`).join('')}</div></section>`) : ''}
      </div>`.__raw;
    this.bottomEl.innerHTML = html`
        <section class="card full" aria-labelledby="h-al"><h2 id="h-al">Recent alarms</h2>
          ${raw(table(['Sev', 'Type', 'Entity', 'Text', 'Role', 'Raised', 'State', 'Ack'], alarms, 'No alarms in the history kept here.', 'alarms'))}</section>
        <section class="card full" aria-labelledby="h-ou"><h2 id="h-ou">Outages (last 30 days)</h2>
          ${raw(table(['Kind', 'Entity', 'Vendor', 'Root cause', 'Start', 'End', 'Duration', ''], outages, 'No outages in the last 30 days.', 'outages'))}</section>`.__raw;
  }

  /** The VC panel: one row per capture with the latest figures and a verdict, and one figure
   *  per capture whose buttons switch between MOS, loss, jitter and handshake graphs. */
  drawVc(n) {
    const caps = n.vc || [];
    const now = Date.now();
    const rows = caps.map((c) => {
      const v = vcVerdict(c, now);
      return html`<tr data-capture="${c.capture}" data-verdict="${v.word}" class="${v.word === 'bad' ? 'bad' : ''}">
        <td class="mono">${c.capture}</td><td>${vcPill(c, now)}</td>
        <td class="num" data-k="mos">${fmtNum(c.mos, 2)}</td><td class="num" data-k="loss_pct">${fmtUnit(c.loss_pct, 2, '%')}</td>
        <td class="num" data-k="jitter_ms">${fmtUnit(c.jitter_ms, 1, 'ms')}</td><td class="num" data-k="streams">${fmtNum(c.streams, 0)}</td>
        <td class="num" data-k="packets">${fmtNum(c.packets, 0)}</td>
        <td class="num" data-k="handshake_ms">${fmtUnit(c.handshake_ms, 2, 'ms')}${c.handshakes ? raw(` <span class="muted">(${esc(fmtNum(c.handshakes, 0))})</span>`) : ''}</td>
        <td>${fmtTime(c.time_ms)}${now - c.time_ms > 15000 ? raw(` <span class="muted">(<span data-since="${esc(c.time_ms)}">${esc(fmtAge(now - c.time_ms))}</span> ago)</span>`) : ''}</td></tr>`.__raw;
    });
    this.vcEl.innerHTML = table(['Capture', 'Verdict', 'MOS', 'Loss', 'Jitter', 'Streams', 'Packets', 'TCP handshake', 'At'],
      rows, 'This office captures no VC media (no capture in its plan, or no report yet).', 'vc');
    const keys = caps.map((c) => c.capture).join('|');
    if (keys === this.vcKeys) return;
    this.vcKeys = keys;
    this.vcGraphsEl.innerHTML = caps.map((c) => {
      const buttons = VC_VIEWS.map((v, i) => html`<button type="button" data-view="${v.key}" aria-pressed="${i === 0}">${v.label}</button>`.__raw).join(' ');
      const first = VC_VIEWS[0];
      return html`<figure class="graph vc-graph" data-source="${first.source}" data-object="${c.capture}" data-url="${graphUrl(n.id, first.source, '', c.capture, -3600, first.view)}">
        <div class="vc-views" role="group" aria-label="graph of capture ${c.capture}">${raw(buttons)}</div>
        <img alt="VC ${first.label} of capture ${c.capture}, last hour" width="497" height="237">
        <figcaption>VC media, capture ${c.capture}: <span class="vc-what">${first.label}</span> <span class="gerr error"></span></figcaption></figure>`.__raw;
    }).join('');
    for (const fig of this.vcGraphsEl.querySelectorAll('figure.vc-graph')) {
      fig.querySelector('.vc-views').addEventListener('click', (ev) => {
        const b = ev.target.closest('button[data-view]');
        const v = b && VC_VIEWS.find((x) => x.key === b.dataset.view);
        if (!v) return;
        for (const x of fig.querySelectorAll('button[data-view]')) x.setAttribute('aria-pressed', String(x === b));
        fig.dataset.source = v.source;
        fig.dataset.url = graphUrl(n.id, v.source, '', fig.dataset.object, -3600, v.view);
        fig.querySelector('.vc-what').textContent = v.label;
        fig.querySelector('img').alt = `VC ${v.label} of capture ${fig.dataset.object}, last hour`;
        this.refreshGraphs([fig]);
      });
    }
    this.refreshGraphs([...this.vcGraphsEl.querySelectorAll('figure.graph')]);
  }

  /** Builds one figure per series (once per series list) and loads each image. */
  syncGraphs(n) {
    if (!this.graphsEl) return;
    const list = this.graphs(n);
    const keys = list.map((g) => `${g.source}/${g.device}/${g.object}`).join('|');
    if (keys === this.graphKeys) return;
    this.graphKeys = keys;
    this.graphsEl.innerHTML = list.length ? list.map((g) => {
      const title = GRAPH_KINDS[g.source].title(g);
      return html`<figure class="graph" data-source="${g.source}" data-object="${g.object}" data-url="${graphUrl(n.id, g.source, g.device, g.object)}">
        <img alt="${title}, last hour" width="497" height="237">
        <figcaption>${title} <span class="gerr error"></span></figcaption></figure>`.__raw;
    }).join('') : '<p class="muted">No series stored yet.</p>';
    this.refreshGraphs([...this.graphsEl.querySelectorAll('figure.graph')]);
    clearInterval(this.graphTimer);
    this.graphTimer = setInterval(() => this.refreshGraphs(), 60000);
  }

  /** Fetches every graph afresh (no-store: a graph is only as good as its last minute) and
   *  shows the collector's error text where one cannot be drawn. */
  refreshGraphs(figs = this.el.querySelectorAll('.node-page figure.graph')) {
    for (const fig of figs) {
      const url = fig.dataset.url;
      fetch(url, { cache: 'no-store' }).then(async (res) => {
        if (!res.ok) {
          let msg = res.statusText;
          try { msg = (await res.json()).error || msg; } catch { /* not JSON */ }
          throw new Error(`${res.status}: ${msg}`);
        }
        const blob = await res.blob();
        if (fig.dataset.url !== url) return; /* another view was picked meanwhile */
        const img = fig.querySelector('img');
        if (img.dataset.blob) URL.revokeObjectURL(img.dataset.blob);
        img.dataset.blob = URL.createObjectURL(blob);
        img.removeAttribute('width'); img.removeAttribute('height');
        img.src = img.dataset.blob;
        fig.classList.remove('failed');
        fig.querySelector('.gerr').textContent = '';
      }).catch((e) => {
        if (fig.dataset.url !== url) return;
        fig.classList.add('failed');
        fig.querySelector('.gerr').textContent = `— graph unavailable: ${e.message}`;
      });
    }
  }

  destroy() {
    clearInterval(this.timer);
    clearInterval(this.graphTimer);
    for (const img of this.el.querySelectorAll('img[data-blob]')) URL.revokeObjectURL(img.dataset.blob);
  }
}

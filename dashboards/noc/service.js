// The service page: one VC or e-governance application, where it is hosted, every office that
// cannot reach it now with the reason and the alarm that explains it, and for a VC service the
// latest media quality (MOS, loss, jitter) at each office whose agent captures VC. Lives off the
// shared store (services, nodes, alarms), so it follows the live feed like the overview.

import { html, raw, esc, nodeHref, serviceHref, statusPill, fmtAge, fmtNum, fmtUnit, fmtTime, vcPill, vcVerdict, TYPE_LABEL } from './util.js';

/** Worst first: bad, warn, no media, stale, good; then by office. */
const VERDICT_RANK = { bad: 0, warn: 1, 'no media': 2, stale: 3, good: 4 };

/** The "VC media quality by office" card of a vc service (API services[].vc_quality). */
function vcQualityCard(st, s) {
  const now = Date.now();
  const list = (s.vc_quality || []).map((c) => ({ ...c, verdict: vcVerdict(c, now).word }))
    .sort((a, b) => VERDICT_RANK[a.verdict] - VERDICT_RANK[b.verdict] || a.node.localeCompare(b.node));
  const rows = list.map((c) => html`<tr data-node="${c.node}" data-capture="${c.capture}" data-verdict="${c.verdict}" class="${c.verdict === 'bad' ? 'bad' : ''}">
    <td><a href="${nodeHref(c.node)}">${c.node}</a></td><td>${(st.byId.get(c.node) || {}).tier || ''}</td><td class="mono">${c.capture}</td>
    <td>${vcPill(c, now)}</td><td class="num" data-k="mos">${fmtNum(c.mos, 2)}</td>
    <td class="num" data-k="loss_pct">${fmtUnit(c.loss_pct, 2, '%')}</td><td class="num" data-k="jitter_ms">${fmtUnit(c.jitter_ms, 1, 'ms')}</td>
    <td class="num" data-k="streams">${fmtNum(c.streams, 0)}</td><td>${fmtTime(c.time_ms)}</td></tr>`.__raw);
  const head = ['Office', 'Tier', 'Capture', 'Verdict', 'MOS', 'Loss', 'Jitter', 'Streams', 'At'];
  return html`<section class="card full" aria-labelledby="h-vcq"><h2 id="h-vcq">VC media quality by office <span class="muted">(latest interval seen by each office's agent)</span></h2>
    ${rows.length ? raw(`<table class="grid vc-quality"><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`)
      : raw('<p class="muted">No office reports VC media quality yet.</p>')}</section>`.__raw;
}
import { groupAlarms } from './alarms.js';

export class ServicePage {
  constructor(el, store, name) {
    this.el = el;
    this.store = store;
    this.name = name;
    el.innerHTML = '<div class="page service-page"></div>';
    this.render();
  }

  render() {
    const root = this.el.querySelector('.service-page');
    const st = this.store;
    const s = st.services.find((x) => x.name === this.name);
    const others = st.services.map((x) => html`<a class="tab ${x.name === this.name ? 'current' : ''}" href="${serviceHref(x.name)}" ${raw(x.name === this.name ? 'aria-current="page"' : '')}>${x.name}</a>`.__raw).join('');
    if (!s) {
      root.innerHTML = html`<nav class="crumbs"><a href="#/">Overview</a> › ${this.name}</nav><div class="tabs">${raw(others)}</div>
        <p class="${st.lastUpdate ? 'error' : 'muted'}">${st.lastUpdate ? `No service named “${this.name}”.` : 'Loading…'}</p>`.__raw;
      return;
    }
    // Every alarm, root or symptom, by id: the "why" of each unreachable office.
    const alarmById = new Map();
    for (const r of groupAlarms(st.alarms)) { alarmById.set(r.id, r); for (const x of r.symptoms) alarmById.set(x.id, { ...x, root: r }); }
    const un = s.unreachable_from || [];
    const rows = un.map((u) => {
      const node = st.byId.get(u.node) || {};
      const a = alarmById.get(u.alarm_id);
      const root = a && (a.root || a);
      return html`<tr data-node="${u.node}">
        <td><a href="${nodeHref(u.node)}">${u.node}</a></td><td>${node.tier || ''}</td><td>${statusPill(node.status)}</td>
        <td>${u.reason || ''}</td>
        <td>${root ? html`<span class="sev small s${root.severity}">S${root.severity}</span> ${TYPE_LABEL[root.type] || root.type} <span class="mono">${root.circuit || root.entity || ''}</span> at <a href="${nodeHref(root.node)}">${root.node}</a>${root.acked_by ? ` · acked by ${root.acked_by}` : ''}` : (u.alarm_id ? `alarm #${u.alarm_id}` : '—')}</td>
        <td>${root ? raw(`<span data-since="${root.raised_ms}">${fmtAge(Date.now() - root.raised_ms)}</span>`) : ''}</td></tr>`.__raw;
    });
    const total = st.nodes.filter((n) => n.tier !== 'sdc').length;
    // No office checked it lately (state "unknown"): nothing says it works, so do not say so.
    const unknown = s.state === 'unknown' && !un.length;
    const pill = s.state === 'down' ? ['st-down', `down at ${s.host}`] : un.length ? ['st-down', `unreachable from ${un.length}`]
      : unknown ? ['st-unknown', 'unknown: no evidence'] : ['st-up', 'reachable everywhere'];
    const cert = s.cert_days == null ? '' : `<span>certificate expires in <b>${Number(s.cert_days).toFixed(1)}</b> days</span>`;
    const reachOk = st.nodes.filter((n) => n.reaches && n.reaches[s.name] === true).length;
    root.innerHTML = html`
      <nav class="crumbs" aria-label="path"><a href="#/">Overview</a> › services › ${s.name}</nav>
      <div class="tabs" role="navigation" aria-label="services">${raw(others)}</div>
      <header class="page-head">
        <h1>${s.name}</h1>
        <span class="pill ${pill[0]}">${pill[1]}</span>
        <span class="facts"><span>kind <b>${s.kind === 'vc' ? 'video conferencing' : s.kind === 'egov' ? 'e-governance application' : s.kind}</b></span>
          <span>hosted at <a href="${nodeHref(s.host)}">${s.host}</a></span>
          <span><b>${reachOk}</b> office${reachOk === 1 ? '' : 's'} reach it now, <b>${un.length}</b> cannot, of ${total}</span>
          <span><b>${s.offices_checking ?? '?'}</b> checked it lately</span>${raw(cert)}</span>
      </header>
      <section class="card full" aria-labelledby="h-un"><h2 id="h-un">Offices that cannot reach ${s.name}</h2>
        ${un.length ? raw(`<table class="grid unreachable"><thead><tr><th scope="col">Office</th><th scope="col">Tier</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Root cause</th><th scope="col">For</th></tr></thead><tbody>${rows.join('')}</tbody></table>`)
          : unknown ? raw(`<p class="muted">? No office has checked ${esc(s.name)} lately: its state is unknown.</p>`)
          : raw(`<p class="allgood">✓ Every office reaches ${esc(s.name)} now.</p>`)}
      </section>
      ${s.kind === 'vc' ? raw(vcQualityCard(st, s)) : ''}`.__raw;
  }

  destroy() {}
}

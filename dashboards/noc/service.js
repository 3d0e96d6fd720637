// The service page: one VC or e-governance application, where it is hosted, and every office
// that cannot reach it now with the reason and the alarm that explains it. Lives off the shared
// store (services, nodes, alarms), so it follows the live feed like the overview.

import { html, raw, esc, nodeHref, serviceHref, statusPill, fmtAge, TYPE_LABEL } from './util.js';
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
    const reachOk = st.nodes.filter((n) => n.reaches && n.reaches[s.name] === true).length;
    root.innerHTML = html`
      <nav class="crumbs" aria-label="path"><a href="#/">Overview</a> › services › ${s.name}</nav>
      <div class="tabs" role="navigation" aria-label="services">${raw(others)}</div>
      <header class="page-head">
        <h1>${s.name}</h1>
        <span class="pill ${un.length ? 'st-down' : 'st-up'}">${un.length ? `unreachable from ${un.length}` : 'reachable everywhere'}</span>
        <span class="facts"><span>kind <b>${s.kind === 'vc' ? 'video conferencing' : s.kind === 'egov' ? 'e-governance application' : s.kind}</b></span>
          <span>hosted at <a href="${nodeHref(s.host)}">${s.host}</a></span>
          <span><b>${reachOk}</b> office${reachOk === 1 ? '' : 's'} reach it now, <b>${un.length}</b> cannot, of ${total}</span></span>
      </header>
      <section class="card full" aria-labelledby="h-un"><h2 id="h-un">Offices that cannot reach ${s.name}</h2>
        ${un.length ? raw(`<table class="grid unreachable"><thead><tr><th scope="col">Office</th><th scope="col">Tier</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Root cause</th><th scope="col">For</th></tr></thead><tbody>${rows.join('')}</tbody></table>`)
          : raw(`<p class="allgood">✓ Every office reaches ${esc(s.name)} now.</p>`)}
      </section>`.__raw;
  }

  destroy() {}
}

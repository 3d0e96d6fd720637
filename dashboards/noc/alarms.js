// The active alarm list: one card per root alarm (severity, type, node, circuit and vendor,
// text, impact, ticking age, acknowledgement), its symptoms folded under it in a <details>.
// Cards are keyed by alarm id and patched in place, so a live update neither closes an
// unfolded symptom list nor wipes an acknowledgement form being typed into.

import { api } from './api.js';
import { esc, html, raw, nodeHref, serviceHref, fmtAge, fmtTime, TYPE_LABEL } from './util.js';

const TOKEN_KEY = 'rajnet.operatorToken';
/** The MIB's labels of severities 1..3 (S1..S3: docs/api.md, "Vocabulary"). */
const SEV_LABEL = { 1: 'critical', 2: 'major', 3: 'minor' };

/** Roots with their symptoms, whatever mix of nested and flat entries the API returned. */
export function groupAlarms(list) {
  const roots = [];
  const byId = new Map();
  for (const a of list) if (!a.root_id) { const r = { ...a, symptoms: [...(a.symptoms || [])] }; roots.push(r); byId.set(a.id, r); }
  for (const a of list) {
    if (!a.root_id) continue;
    const r = byId.get(a.root_id);
    if (r) { if (!r.symptoms.some((s) => s.id === a.id)) r.symptoms.push(a); } else roots.push({ ...a, symptoms: a.symptoms || [], orphan: true });
  }
  roots.sort((a, b) => (a.severity - b.severity) || (b.raised_ms - a.raised_ms));
  return roots;
}

function what(a) {
  return a.circuit || (['service_unreachable', 'service_down', 'cert_expiring'].includes(a.type) ? a.entity : '') || '';
}

function vendorName(a, links) {
  if (!a.vendor) return '';
  const l = a.circuit && links.get(a.circuit);
  return (l && l.vendor_name) || a.vendor;
}

function impactLine(a) {
  const nodes = a.impact_nodes || [];
  const svcs = a.impact_services || [];
  if (!nodes.length && !svcs.length) return '';
  const shown = nodes.slice(0, 8).map((n) => html`<a href="${nodeHref(n)}">${n}</a>`);
  const more = nodes.length > 8 ? ` +${nodes.length - 8} more` : '';
  return html`<div class="alarm-impact"><span class="k">Impact</span>
    ${nodes.length} office${nodes.length === 1 ? '' : 's'} cut off${nodes.length ? ': ' : ''}${raw(shown.map((x) => x.__raw).join(', '))}${more}
    ${svcs.length ? raw(` · lose ${svcs.map((s) => html`<a class="svc" href="${serviceHref(s)}">${s}</a>`.__raw).join(' ')}`) : ''}</div>`.__raw;
}

function ackState(a) {
  if (a.acked_by) {
    return html`<span class="ack-state acked" title="${a.ack_comment || ''}">✔ acked by <b>${a.acked_by}</b>${a.acked_ms ? ` at ${fmtTime(a.acked_ms)}` : ''}${a.ack_comment ? html`: <q>${a.ack_comment}</q>` : ''}</span>`.__raw;
  }
  return html`<span class="ack-state unacked">not acked</span>
    <button type="button" class="ack-btn" data-ack="${a.id}" aria-label="Acknowledge alarm ${a.id}">Ack…</button>`.__raw;
}

function symptomItem(s, links) {
  return html`<li class="symptom sev${s.severity}" data-alarm-id="${s.id}">
    <span class="sev small s${s.severity}" title="Severity ${s.severity}">S${s.severity}</span>
    <span class="type">${TYPE_LABEL[s.type] || s.type}</span>
    <a href="${nodeHref(s.node)}">${s.node}</a>
    ${what(s) ? html`<span class="circuit">${what(s)}</span>` : ''}
    <span class="text">${s.text}</span>
    <span class="age" data-since="${s.raised_ms}">${fmtAge(Date.now() - s.raised_ms)}</span></li>`.__raw;
}

function mainHtml(a, links) {
  const v = vendorName(a, links);
  return html`<span class="sev s${a.severity}" title="Severity ${a.severity} (${SEV_LABEL[a.severity] || ''})">S${a.severity}</span>
    <div class="alarm-body">
      <div class="alarm-title">
        <span class="type">${TYPE_LABEL[a.type] || a.type}</span>
        <a class="node" href="${nodeHref(a.node)}">${a.node}</a>
        ${what(a) ? html`<span class="circuit" title="circuit">${what(a)}</span>` : ''}
        ${v ? html`<span class="vendor" title="vendor">${v}</span>` : ''}
        ${a.planned ? raw('<span class="badge planned" title="inside a maintenance window">PLANNED</span>') : ''}
        ${a.orphan ? raw('<span class="badge">symptom</span>') : ''}
        <span class="alarm-id muted" title="alarm id (rajnetctl ack ${a.id})">#${a.id}</span>
      </div>
      <div class="alarm-text">${a.text}</div>
      ${raw(impactLine(a))}
    </div>
    <div class="alarm-side">
      <span class="age" data-since="${a.raised_ms}" title="raised ${fmtTime(a.raised_ms)}">${fmtAge(Date.now() - a.raised_ms)}</span>
      ${raw(ackState(a))}
    </div>`.__raw;
}

function symptomsHtml(a, links) {
  const n = a.symptoms.length;
  if (!n) return '';
  return html`<summary>${n} symptom${n === 1 ? '' : 's'} <span class="muted">(${[...new Set(a.symptoms.map((s) => s.node))].slice(0, 6).join(', ')})</span></summary>
    <ul>${raw(a.symptoms.map((s) => symptomItem(s, links)).join(''))}</ul>`.__raw;
}

/** Keeps a container's alarm cards in step with the store. */
export class AlarmList {
  constructor(container, store) {
    this.el = container;
    this.store = store;
    this.cards = new Map();
    this.el.addEventListener('click', (ev) => {
      const b = ev.target.closest('button.ack-btn');
      if (b) this.openForm(Number(b.dataset.ack));
    });
  }

  links() {
    const m = new Map();
    for (const n of this.store.nodes) for (const l of n.uplinks || []) m.set(l.circuit, l);
    return m;
  }

  render() {
    const roots = groupAlarms(this.store.alarms);
    const links = this.links();
    const seen = new Set();
    let prev = null;
    for (const a of roots) {
      seen.add(a.id);
      let card = this.cards.get(a.id);
      if (!card) {
        card = document.createElement('article');
        card.innerHTML = '<div class="alarm-main"></div><details class="symptoms"></details><div class="ack-slot"></div>';
        this.cards.set(a.id, card);
      }
      card.className = `alarm root sev${a.severity}${a.acked_by ? ' acked' : ''}${a.planned ? ' planned' : ''}`;
      card.dataset.alarmId = a.id;
      card.dataset.node = a.node;
      if (a.circuit) card.dataset.circuit = a.circuit;
      card.setAttribute('aria-label', `Severity ${a.severity} ${TYPE_LABEL[a.type] || a.type} at ${a.node}${a.circuit ? ` circuit ${a.circuit}` : ''}${a.acked_by ? `, acknowledged by ${a.acked_by}` : ', not acknowledged'}`);
      const main = card.querySelector('.alarm-main');
      const mh = mainHtml(a, links);
      if (main.dataset.html !== mh) { main.innerHTML = mh; main.dataset.html = mh; }
      const det = card.querySelector('details.symptoms');
      const sh = symptomsHtml(a, links);
      if (det.dataset.html !== sh) { det.innerHTML = sh; det.dataset.html = sh; }
      det.hidden = !a.symptoms.length;
      card.dataset.symptoms = a.symptoms.length;
      if (a.acked_by) card.querySelector('.ack-slot').innerHTML = '';
      const want = prev ? prev.nextSibling : this.el.firstChild;
      if (want !== card) this.el.insertBefore(card, want);
      prev = card;
    }
    // A card whose alarm is not listed is taken out of the page but kept for a minute: when the
    // alarm is listed again (a refresh racing an update), the operator's half-typed
    // acknowledgement is still in it.
    const now = Date.now();
    for (const [id, card] of this.cards) {
      if (seen.has(id)) { delete card.dataset.goneAt; continue; }
      if (card.isConnected) { card.remove(); card.dataset.goneAt = now; }
      if (now - Number(card.dataset.goneAt || now) > 60000) this.cards.delete(id);
    }
    let empty = this.el.querySelector('.empty');
    if (!roots.length && !empty) {
      empty = document.createElement('p');
      empty.className = 'empty';
      empty.textContent = this.store.error ? 'No data: the collector did not answer.' : 'No active alarms. All monitored links and offices are up.';
      this.el.appendChild(empty);
    } else if (roots.length && empty) empty.remove();
  }

  openForm(id) {
    const card = this.cards.get(id);
    if (!card) return;
    const slot = card.querySelector('.ack-slot');
    if (slot.querySelector('form')) { slot.querySelector('textarea').focus(); return; }
    const token = sessionStorage.getItem(TOKEN_KEY) || '';
    slot.innerHTML = html`<form class="ack-form" aria-label="Acknowledge alarm ${id}">
      <label>Comment <textarea name="comment" rows="2" required placeholder="what is being done, ticket no., vendor docket"></textarea></label>
      <label>Operator token <input name="token" type="password" autocomplete="off" value="${token}" placeholder="Bearer token"></label>
      <div class="row">
        <button type="submit" class="primary">Acknowledge</button>
        <button type="button" class="cancel">Cancel</button>
        <span class="ack-error" role="alert" aria-live="assertive"></span>
      </div></form>`.__raw;
    const form = slot.querySelector('form');
    form.querySelector('.cancel').addEventListener('click', () => { slot.innerHTML = ''; });
    form.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') slot.innerHTML = ''; });
    form.addEventListener('submit', (ev) => { ev.preventDefault(); this.submit(id, form); });
    form.querySelector('textarea').focus();
  }

  async submit(id, form) {
    const err = form.querySelector('.ack-error');
    const btn = form.querySelector('button[type=submit]');
    const comment = form.comment.value.trim();
    const token = form.token.value.trim();
    err.textContent = '';
    btn.disabled = true;
    try {
      const alarm = await api(`/alarms/${id}/ack`, { method: 'POST', body: { comment }, token });
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      // Patch the alarm in the store at once; the live feed will confirm it.
      const patch = (list) => list.map((a) => (a.id === id ? { ...a, ...(alarm || {}), symptoms: a.symptoms } : { ...a, symptoms: a.symptoms && patch(a.symptoms) }));
      if (alarm && alarm.acked_by) this.store.alarms = patch(this.store.alarms);
      form.parentElement.innerHTML = '';
      this.render();
      this.store.refresh();
    } catch (e) {
      // Keep a token the server did not reject (the failure was elsewhere); drop one it did.
      if (token && e.status !== 401 && e.status !== 403 && e.status !== 0) sessionStorage.setItem(TOKEN_KEY, token);
      if (e.status === 401 || e.status === 403) sessionStorage.removeItem(TOKEN_KEY);
      err.textContent = `${e.status === 401 || e.status === 403 ? 'Refused' : 'Failed'}: ${e.message}`;
      form.classList.add('refused');
      btn.disabled = false;
    }
  }
}

/** Updates every ticking age below root once a second. */
export function tickAges(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('[data-since]')) {
    const since = Number(el.dataset.since);
    if (since) el.textContent = fmtAge(now - since);
  }
}

export { esc };

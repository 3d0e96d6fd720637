// Entry point of the NOC dashboard: the header (counts, live-feed state, clock), the hash router
// (#/ overview, #/node/<id>, #/service/<name>) and the one-second ticker for alarm ages.
// No framework and no build step: ES modules served as they are by the collector at /static/.

import { Store } from './api.js';
import { Overview } from './overview.js';
import { NodePage } from './node.js';
import { ServicePage } from './service.js';
import { AssetsPage } from './assets.js';
import { CctvPage } from './cctv.js';
import { tickAges } from './alarms.js';
import { esc, fmtTime } from './util.js';

const store = new Store();
const view = document.getElementById('view');
const countsEl = document.getElementById('counts');
const liveEl = document.getElementById('live');
const clockEl = document.getElementById('clock');
const svcNav = document.getElementById('svc-nav');
let page = null;

function route() {
  const h = location.hash || '#/';
  if (page && page.destroy) page.destroy();
  let m;
  if ((m = h.match(/^#\/node\/(.+)$/))) {
    const id = decodeURIComponent(m[1]);
    document.title = `${id} · RajNet NOC`;
    page = new NodePage(view, store, id);
  } else if ((m = h.match(/^#\/service\/(.+)$/))) {
    const name = decodeURIComponent(m[1]);
    document.title = `${name} · RajNet NOC`;
    page = new ServicePage(view, store, name);
  } else if (/^#\/assets(\?|$)/.test(h)) {
    document.title = 'Assets · RajNet NOC';
    page = new AssetsPage(view, store, h);
  } else if (/^#\/cctv(\?|$)/.test(h)) { // police video surveillance, per district
    document.title = 'Video surveillance · RajNet NOC';
    page = new CctvPage(view, store, h);
  } else {
    document.title = 'RajNet NOC';
    page = new Overview(view, store);
    page.render();
  }
  document.body.dataset.view = (h.split('/')[1] || 'overview').split('?')[0];
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.getAttribute('href') === h.split('?')[0] || (a.getAttribute('href') === '#/' && (h === '#/' || h === '#'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  view.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function renderHeader() {
  const c = { up: 0, degraded: 0, down: 0, silent: 0, unknown: 0 };
  for (const n of store.nodes) c[n.status in c ? n.status : 'unknown']++;
  const roots = store.alarms.filter((a) => !a.root_id);
  const s1 = roots.filter((a) => a.severity === 1).length;
  const unacked = roots.filter((a) => !a.acked_by).length;
  const st = store.status;
  countsEl.innerHTML = `
    <span class="count total" title="nodes monitored"><b>${store.nodes.length}</b> nodes</span>
    ${['up', 'degraded', 'down', 'silent', 'unknown'].map((k) => `<span class="count st-${k}${c[k] ? '' : ' zero'}" data-count="${k}" aria-label="${c[k]} ${k}"><b>${c[k]}</b> ${k}</span>`).join('')}
    <span class="count alarms${roots.length ? ' hot' : ''}" data-count="alarms" aria-label="${roots.length} active root alarms, ${s1} critical, ${unacked} unacknowledged"><b>${roots.length}</b> alarms${s1 ? ` · <b>${s1}</b> S1` : ''}${unacked ? ` · <b>${unacked}</b> unacked` : ''}</span>
    ${st && st.agents_connected !== undefined ? `<span class="count agents" title="agents connected">agents <b>${esc(st.agents_connected)}</b></span>` : ''}`;
  svcNav.innerHTML = store.services.map((s) => {
    const n = (s.unreachable_from || []).length;
    return `<a href="#/service/${encodeURIComponent(s.name)}" class="${n ? 'bad' : ''}" aria-label="service ${esc(s.name)}${n ? `, unreachable from ${n} offices` : ''}">${esc(s.name)}${n ? ` <span class="n">${n}</span>` : ''}</a>`;
  }).join('');
  const h = location.hash || '#/';
  for (const a of svcNav.querySelectorAll('a')) if (a.getAttribute('href') === h) a.setAttribute('aria-current', 'page');
  renderLive();
}

function renderLive() {
  const mode = store.error ? 'offline' : store.live;
  liveEl.className = `live ${mode}`;
  liveEl.dataset.mode = mode;
  const text = { sse: 'LIVE', polling: 'POLLING 5s', connecting: 'CONNECTING', offline: 'NO DATA' }[mode] || mode;
  liveEl.innerHTML = `<span class="dot" aria-hidden="true"></span>${text}${store.lastUpdate ? ` <span class="muted">· ${fmtTime(store.lastUpdate)}</span>` : ''}`;
  liveEl.title = store.error ? `Last read failed: ${store.error}` : (mode === 'sse' ? 'Server-sent events from the collector' : 'Polling the collector every 5 s');
}

store.subscribe((what) => {
  if (what === 'data') { renderHeader(); if (page && page.render) page.render(); }
  else if (what === 'live') renderLive();
  else if (what === 'status') renderHeader();
});

window.addEventListener('hashchange', route);
setInterval(() => {
  tickAges();
  clockEl.textContent = new Date().toLocaleTimeString('en-GB', { hour12: false });
}, 1000);
clockEl.textContent = new Date().toLocaleTimeString('en-GB', { hour12: false });
route();
store.start();
window.rajnetStore = store;   // for the console and the browser tests

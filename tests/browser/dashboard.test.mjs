// Browser test of the NOC dashboard in headless Chromium (Debian's /usr/bin/chromium driven by
// npm playwright-core). Prints TAP-style "ok - …" / "not ok - …" lines and exits 1 on a failure.
//
//   node dashboard.test.mjs            against the real collector: RAJNET_HTTP (default
//                                      http://127.0.0.1:8080), RAJNET_OPERATOR_TOKEN (default
//                                      rajnet-demo-operator); the cut is made with RAJNET_SIM
//                                      (default <repo>/deploy/sim/rajnet-sim) cut JPR-MPLS-0042
//   node dashboard.test.mjs --mock     against tests/browser/mock-api.mjs (started here)
//
// VC media quality: RAJNET_VC_NODE (default ajmer) is an office whose agent sees live RTP (the
// integration script runs a sender there); its node page must show the VC panel with a MOS, loss
// and jitter and a verdict, and the rtp graph; the vc service page must list it with its MOS.
//
// Screenshots go to RAJNET_SCREENSHOTS (default <repo>/tests/out/screenshots, or its mock/
// subfolder with --mock): overview.png,
// alarm.png, node.png, vc.png, service.png (and wall.png, a 400-node RajNet, in --mock mode).

import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMock } from './mock-api.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const MOCK = process.argv.includes('--mock');
const TOKEN = process.env.RAJNET_OPERATOR_TOKEN || 'rajnet-demo-operator';
const SIM = process.env.RAJNET_SIM || path.join(repo, 'deploy/sim/rajnet-sim');
const SHOTS = process.env.RAJNET_SCREENSHOTS || path.join(repo, 'tests/out/screenshots', MOCK ? 'mock' : '');
const TOPOLOGY = process.env.RAJNET_TOPOLOGY || path.join(repo, 'deploy/sim/topology.yaml');
const CIRCUIT = 'JPR-MPLS-0042';
const CUT_NODES = ['jaipur', 'jaipur/sanganer', 'jaipur/amer'];
const VC_NODE = process.env.RAJNET_VC_NODE || 'ajmer';
const DEADLINE_MS = 10000;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let fails = 0;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, why) => { fails++; console.log(`not ok - ${name}${why ? `: ${why}` : ''}`); };
const check = (cond, name, why) => (cond ? ok(name) : notOk(name, why));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Node ids of the topology file: the two-space-indented keys under "nodes:". */
function topologyNodes(file) {
  const ids = []; let inNodes = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (/^\w/.test(line)) inNodes = line.startsWith('nodes:');
    const m = inNodes && line.match(/^ {2}([\w/-]+):\s*$/);
    if (m) ids.push(m[1]);
  }
  return ids;
}

/** Polls fn (in Node) until it returns a truthy value or ms pass; returns the last value. */
async function until(ms, fn, every = 200) {
  const end = Date.now() + ms;
  let v;
  for (;;) {
    try { v = await fn(); } catch (e) { v = undefined; }
    if (v || Date.now() >= end) return v;
    await sleep(every);
  }
}

async function apiGet(base, p) {
  const r = await fetch(base + p, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${p}: ${r.status}`);
  return r.json();
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  let mock = null; let base = (process.env.RAJNET_HTTP || 'http://127.0.0.1:8080').replace(/\/$/, '');
  if (MOCK) {
    mock = createMock({ cutDelayMs: 3000 });
    await new Promise((r) => mock.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${mock.server.address().port}`;
  }
  console.log(`# dashboard at ${base}${MOCK ? ' (mock API)' : ''}`);
  const expected = topologyNodes(TOPOLOGY);

  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rn-chromium-'));
  // A fresh profile per run (playwright passes it to chromium as --user-data-dir).
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS, headless: true, viewport: { width: 1920, height: 1080 },
  });
  const cleanup = async () => {
    await ctx.close().catch(() => {});
    fs.rmSync(userDir, { recursive: true, force: true });
    if (mock) mock.close();
  };
  let cut = false;
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    let navigations = 0;
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });

    // --- 1. the overview shows every node -----------------------------------------------------
    const resp = await page.goto(`${base}/#/`, { waitUntil: 'domcontentloaded' }).catch((e) => e);
    if (!resp || resp instanceof Error || !resp.ok()) {
      notOk('the collector serves the dashboard at /', resp instanceof Error ? resp.message.split('\n')[0] : `HTTP ${resp && resp.status()}`);
      return;
    }
    ok(`the collector serves the dashboard at ${base}/`);
    const shown = await until(30000, async () => {
      const ids = await page.$$eval('.overview .tile[data-node]', (ts) => ts.map((t) => t.dataset.node));
      return expected.every((id) => ids.includes(id)) ? ids : null;
    }) || await page.$$eval('.overview .tile[data-node]', (ts) => ts.map((t) => t.dataset.node));
    const missing = expected.filter((id) => !shown.includes(id));
    check(!missing.length, `the overview shows all ${expected.length} nodes of topology.yaml as tiles`, `missing ${missing.join(', ')}`);
    const grouped = await page.$$eval('.district', (ds) => Object.fromEntries(ds.map((d) => [d.dataset.district, [...d.querySelectorAll('.tile[data-node]')].map((t) => t.dataset.node)])));
    check(grouped.jaipur && grouped.jaipur.includes('jaipur/sanganer') && grouped.ajmer && grouped.ajmer.includes('ajmer/kishangarh'),
      'blocks are grouped under their district', JSON.stringify(grouped));
    const labelled = await page.$$eval('.tile[data-node]', (ts) => ts.every((t) => /: \w/.test(t.getAttribute('aria-label') || '')));
    check(labelled, 'every tile names its status in words (aria-label), not by colour alone');

    // Before the cut the district must be reachable, or the cut proves nothing.
    const upBefore = await until(90000, () => page.$$eval('.tile[data-node]', (ts, ids) => ids.every((id) => {
      const t = ts.find((x) => x.dataset.node === id); return t && t.dataset.status === 'up';
    }), CUT_NODES));
    check(upBefore, `before the cut ${CUT_NODES.join(', ')} are up (green)`,
      JSON.stringify(await page.$$eval('.tile[data-node]', (ts) => ts.map((t) => `${t.dataset.node}=${t.dataset.status}`))));
    await page.evaluate(() => { window.__sameDocument = 'still-here'; });
    const navBefore = navigations;

    // --- 2. cut the district's uplink ---------------------------------------------------------
    const t0 = Date.now();
    if (MOCK) mock.cut(CIRCUIT);
    else execFileSync(SIM, ['cut', CIRCUIT], { stdio: ['ignore', 'ignore', 'inherit'] });
    cut = true;
    const downColor = await page.evaluate(() => { const e = document.createElement('div'); e.className = 'st-down'; document.body.append(e); const c = getComputedStyle(e).backgroundColor; e.remove(); return c; });
    const state = async () => page.evaluate(({ nodes, circuit }) => {
      const tiles = Object.fromEntries(nodes.map((id) => { const t = document.querySelector(`.overview .tile[data-node="${id}"]`); return [id, t ? { status: t.dataset.status, bg: getComputedStyle(t).backgroundColor } : null]; }));
      const roots = [...document.querySelectorAll('.alarm-list article.alarm.root')].map((a) => ({ id: a.dataset.alarmId, circuit: a.dataset.circuit || '', symptoms: Number(a.dataset.symptoms || 0) }));
      return { tiles, roots };
    }, { nodes: CUT_NODES, circuit: CIRCUIT });
    let last = null;
    const red = (s) => CUT_NODES.every((id) => s.tiles[id] && s.tiles[id].status === 'down' && s.tiles[id].bg === downColor);
    const oneRoot = (s) => s.roots.length === 1 && s.roots[0].circuit === CIRCUIT;
    let tRed = 0; let tRoot = 0;
    await until(DEADLINE_MS + 2000, async () => {
      last = await state();
      const now = Date.now() - t0;
      if (!tRed && red(last)) tRed = now;
      if (!tRoot && oneRoot(last)) tRoot = now;
      return tRed && tRoot;
    }, 100);
    check(tRed && tRed <= DEADLINE_MS, `cut ${CIRCUIT}: ${CUT_NODES.join(', ')} turn red after ${tRed} ms (limit ${DEADLINE_MS} ms)`,
      tRed ? `took ${tRed} ms` : JSON.stringify(last && last.tiles));
    check(tRoot && tRoot <= DEADLINE_MS, `exactly one root alarm (${CIRCUIT}) is listed after ${tRoot} ms (limit ${DEADLINE_MS} ms)`,
      tRoot ? `took ${tRoot} ms` : JSON.stringify(last && last.roots));
    const same = await page.evaluate(() => window.__sameDocument).catch(() => null);
    check(same === 'still-here' && navigations === navBefore, 'the updates arrived without a page reload');
    const ajmer = await page.$eval('.overview .tile[data-node="ajmer"]', (t) => t.dataset.status).catch(() => null);
    check(ajmer !== 'down', `the other district stays out of it (ajmer is ${ajmer})`);

    const folded = await until(10000, () => page.evaluate((c) => {
      const a = document.querySelector(`.alarm-list article.alarm.root[data-circuit="${c}"]`);
      const d = a && a.querySelector('details.symptoms');
      return a && Number(a.dataset.symptoms) >= 1 && d && !d.open ? { n: Number(a.dataset.symptoms), summary: d.querySelector('summary').textContent.trim() } : null;
    }, CIRCUIT));
    check(folded, `its symptoms are folded under it${folded ? ` (${folded.summary.replace(/\s+/g, ' ')})` : ''}`,
      JSON.stringify(last && last.roots));
    const symptomRoots = await page.$$eval('.alarm-list article.alarm.root', (as) => as.length);
    check(symptomRoots === 1, `still one root alarm once the symptoms are in (${symptomRoots})`);
    const card = page.locator(`.alarm-list article.alarm.root[data-circuit="${CIRCUIT}"]`).first();
    const cardText = (await card.innerText().catch(() => '')).replace(/\s+/g, ' ');
    check(/BSNL|bsnl/.test(cardText) && /\d+s/.test(cardText) && /not acked/.test(cardText),
      'the root alarm shows vendor, age and that it is not acknowledged', cardText.slice(0, 200));
    const header = (await page.locator('#counts').innerText()).replace(/\s+/g, ' ');
    check(/\b3 down\b/.test(header) || /\b[3-9] down\b/.test(header), `the header counts the offices down (${header})`);
    await page.screenshot({ path: path.join(SHOTS, 'overview.png') });
    ok(`screenshot ${path.join(SHOTS, 'overview.png')}`);

    // --- 3. acknowledge: refused without a token, accepted with the operator's -----------------
    const alarmId = Number(await card.getAttribute('data-alarm-id').catch(() => 0));
    if (!alarmId) {
      notOk('acknowledge: no root alarm to acknowledge');
    } else {
      await card.locator('button.ack-btn').click();
      const form = card.locator('form.ack-form');
      await form.locator('textarea[name=comment]').fill('BSNL docket 4711 raised; fibre cut near Sanganer');
      await form.locator('input[name=token]').fill('');
      await form.locator('button[type=submit]').click();
      const err = await until(5000, async () => (await form.locator('.ack-error').innerText()).trim());
      const stillUnacked = !(await card.evaluate((a) => a.classList.contains('acked')));
      let apiUnacked = false;
      try { apiUnacked = (await apiGet(base, '/api/v1/alarms?state=active')).alarms.find((a) => a.id === alarmId)?.acked_by == null; } catch { /* */ }
      check(err && /401|token|auth/i.test(err) && stillUnacked && apiUnacked, `ack without a token is refused and shown: "${err}"`,
        `error "${err}", card unacked ${stillUnacked}, API unacked ${apiUnacked}`);

      await form.locator('input[name=token]').fill(TOKEN);
      await form.locator('button[type=submit]').click();
      const ackedText = await until(5000, async () => {
        const t = await card.locator('.ack-state.acked').innerText().catch(() => '');
        return t && /acked by/.test(t) ? t : null;
      });
      let apiAcked = null;
      try { apiAcked = (await apiGet(base, '/api/v1/alarms?state=active')).alarms.find((a) => a.id === alarmId)?.acked_by; } catch { /* */ }
      const shownErr = ackedText ? '' : await form.locator('.ack-error').innerText().catch(() => '');
      check(ackedText && apiAcked, `ack with the operator token shows "${(ackedText || '').replace(/\s+/g, ' ')}" (API acked_by ${apiAcked})`,
        `the page shows "${shownErr}", API acked_by ${apiAcked}`);
      const remembered = await page.evaluate(() => sessionStorage.getItem('rajnet.operatorToken'));
      check(remembered === TOKEN, 'the token is remembered for the session');
      await card.locator('details.symptoms').evaluate((d) => { d.open = true; });
      await card.screenshot({ path: path.join(SHOTS, 'alarm.png') });
      ok(`screenshot ${path.join(SHOTS, 'alarm.png')}`);
    }

    // --- 4. node page --------------------------------------------------------------------------
    await page.evaluate(() => { location.hash = '#/node/jaipur'; });
    const uplink = await until(10000, () => page.evaluate((c) => {
      const r = document.querySelector(`.node-page table.uplinks tr[data-circuit="${c}"]`);
      return r ? r.innerText.replace(/\s+/g, ' ').trim() : null;
    }, CIRCUIT));
    check(uplink && /BSNL/i.test(uplink) && /mpls/i.test(uplink), `node page of jaipur lists its uplink with vendor and circuit (${uplink})`);
    const graph = await until(20000, () => page.evaluate(() => {
      const imgs = [...document.querySelectorAll('.node-page .graph img')];
      const good = imgs.filter((i) => i.complete && i.naturalWidth > 0);
      return good.length ? { n: imgs.length, good: good.length, src: good[0].getAttribute('src') } : null;
    }), 500);
    const imgs = graph || await page.evaluate(() => [...document.querySelectorAll('.node-page .graph img')].map((i) => i.getAttribute('src')));
    check(graph, `a graph image loads on the node page${graph ? ` (${graph.good}/${graph.n}, ${graph.src})` : ''}`, JSON.stringify(imgs));
    const sections = await page.$$eval('.node-page section h2', (hs) => hs.map((h) => h.textContent));
    check(['Interfaces', 'Recent alarms', 'Services from this office now'].every((s) => sections.some((h) => h.startsWith(s))),
      'the node page shows interfaces, services reachable and recent alarms', sections.join(', '));
    const reach = await page.$$eval('.node-page .reach', (rs) => rs.map((r) => `${r.dataset.service}:${r.classList.contains('bad') ? 'no' : r.classList.contains('ok') ? 'yes' : '?'}`));
    check(reach.length && reach.every((r) => r.endsWith(':no')), `jaipur, cut off, reaches no service now (${reach.join(' ')})`);
    await page.screenshot({ path: path.join(SHOTS, 'node.png'), fullPage: true });
    ok(`screenshot ${path.join(SHOTS, 'node.png')}`);

    // --- 4b. VC media quality on the node page of an office with live RTP ------------------------
    await page.evaluate((id) => { location.hash = `#/node/${encodeURIComponent(id)}`; }, VC_NODE);
    const vcRow = await until(30000, () => page.evaluate(() => {
      const r = document.querySelector('.node-page .vc-card table.vc tr[data-capture]');
      if (!r) return null;
      const v = (k) => (r.querySelector(`td[data-k="${k}"]`) || {}).textContent || '';
      const row = { capture: r.dataset.capture, verdict: r.dataset.verdict, mos: parseFloat(v('mos')), loss: parseFloat(v('loss_pct')),
        jitter: parseFloat(v('jitter_ms')), streams: parseFloat(v('streams')), pill: (r.querySelector('.vc-verdict') || {}).className || '' };
      return Number.isFinite(row.mos) ? row : null;
    }), 500);
    const vcShown = vcRow || await page.$eval('.node-page .vc-card', (c) => c.innerText.replace(/\s+/g, ' ').slice(0, 200)).catch((e) => e.message);
    check(vcRow && vcRow.mos >= 1 && vcRow.mos <= 5 && Number.isFinite(vcRow.loss) && Number.isFinite(vcRow.jitter) && vcRow.streams >= 1,
      `node page of ${VC_NODE}: the VC media quality panel shows capture ${vcRow && vcRow.capture}: MOS ${vcRow && vcRow.mos}, loss ${vcRow && vcRow.loss} %, jitter ${vcRow && vcRow.jitter} ms, ${vcRow && vcRow.streams} streams`,
      JSON.stringify(vcShown));
    const expectVerdict = (m) => (m < 3.6 ? 'bad' : m < 4.0 ? 'warn' : 'good');
    const colourOf = { good: 'st-up', warn: 'st-degraded', bad: 'st-down' };
    check(vcRow && vcRow.verdict === expectVerdict(vcRow.mos) && vcRow.pill.includes(colourOf[vcRow.verdict]),
      `... with the verdict of its MOS in words and colour (${vcRow && vcRow.verdict}, ${vcRow && vcRow.pill})`, JSON.stringify(vcRow));
    const vcGraph = await until(20000, () => page.evaluate(() => {
      const f = document.querySelector('.node-page .vc-card figure.vc-graph');
      const i = f && f.querySelector('img');
      return i && i.complete && i.naturalWidth > 0 && i.getAttribute('src') ? { url: f.dataset.url, w: i.naturalWidth } : null;
    }), 500);
    check(vcGraph && /source=rtp/.test(vcGraph.url) && /view=mos/.test(vcGraph.url), `... and its MOS graph loads (${vcGraph ? `${vcGraph.w} px wide, ${vcGraph.url}` : 'no image'})`,
      await page.$eval('.node-page .vc-card figure', (f) => f.innerText).catch((e) => e.message));
    if (vcGraph) {
      const before = await page.$eval('.node-page .vc-card figure.vc-graph img', (i) => i.getAttribute('src'));
      await page.locator('.node-page .vc-card figure.vc-graph button[data-view="jitter"]').first().click();
      const jit = await until(10000, () => page.evaluate((old) => {
        const f = document.querySelector('.node-page .vc-card figure.vc-graph');
        const i = f.querySelector('img');
        return /view=jitter/.test(f.dataset.url) && i.getAttribute('src') !== old && i.complete && i.naturalWidth > 0 ? f.dataset.url : null;
      }, before), 300);
      check(jit, `... and its Jitter button loads the jitter graph (${jit})`);
      await page.locator('.node-page .vc-card figure.vc-graph button[data-view="mos"]').first().click();
      await sleep(1000);
    }
    await page.locator('.node-page .vc-card').screenshot({ path: path.join(SHOTS, 'vc.png') });
    ok(`screenshot ${path.join(SHOTS, 'vc.png')}`);

    // --- 5. service page -----------------------------------------------------------------------
    await page.evaluate(() => { location.hash = '#/service/vc'; });
    const listed = await until(10000, () => page.evaluate((nodes) => {
      const rows = [...document.querySelectorAll('.service-page table.unreachable tr[data-node]')].map((r) => r.dataset.node);
      return nodes.every((n) => rows.includes(n)) ? rows : null;
    }, CUT_NODES));
    const rows = listed || await page.$$eval('.service-page table.unreachable tr[data-node]', (rs) => rs.map((r) => r.dataset.node)).catch(() => []);
    check(listed, `service page of vc lists the cut offices as unable to reach it (${rows.join(', ')})`);
    const why = await page.$$eval('.service-page table.unreachable tr[data-node]', (rs) => rs.map((r) => r.cells[3].innerText + ' / ' + r.cells[4].innerText)).catch(() => []);
    check(why.length && why.every((w) => w.length > 6), `each with the reason and root cause (${why[0] || ''})`);
    const vcOffice = await until(20000, () => page.evaluate((id) => {
      const r = document.querySelector(`.service-page table.vc-quality tr[data-node="${id}"]`);
      const mos = r && parseFloat(r.querySelector('td[data-k="mos"]').textContent);
      return r && Number.isFinite(mos) ? { mos, verdict: r.dataset.verdict, n: document.querySelectorAll('.service-page table.vc-quality tr[data-node]').length } : null;
    }, VC_NODE), 500);
    check(vcOffice, `service page of vc shows the media quality per office: ${VC_NODE} MOS ${vcOffice && vcOffice.mos} (${vcOffice && vcOffice.verdict}), ${vcOffice && vcOffice.n} offices capturing`,
      await page.$eval('.service-page', (e) => e.innerText.replace(/\s+/g, ' ').slice(-300)).catch((e) => e.message));
    await page.screenshot({ path: path.join(SHOTS, 'service.png') });
    ok(`screenshot ${path.join(SHOTS, 'service.png')}`);

    // --- 6. keyboard and console ---------------------------------------------------------------
    await page.evaluate(() => { location.hash = '#/'; });
    await page.waitForSelector('.overview .tile[data-node]');
    await page.keyboard.press('Tab'); await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.tagName);
    check(focused === 'A' || focused === 'BUTTON', `keyboard focus moves through the links (${focused})`);
    // Failed loads (the refused ack's 401, any HTTP error the page then shows) are the browser's
    // network log, not script errors; they are listed below as comments.
    const real = pageErrors.filter((e) => !/EventSource|net::ERR|Failed to load resource/i.test(e));
    check(!real.length, 'no script errors in the page', real.slice(0, 3).join(' | '));
    if (pageErrors.length > real.length) console.log(`# console (feed/network): ${pageErrors.filter((e) => !real.includes(e)).slice(0, 3).join(' | ')}`);
    const mode = await page.$eval('#live', (e) => e.dataset.mode);
    console.log(`# live feed mode at the end: ${mode}`);

    if (MOCK) { // without the event stream the page polls, and still follows a heal
      const poll = await ctx.newPage();
      await poll.route('**/api/v1/events', (r) => r.abort());
      await poll.goto(`${base}/#/`);
      await poll.waitForSelector('.overview .tile[data-node="jaipur"]');
      const pmode = await until(5000, () => poll.$eval('#live', (e) => (e.dataset.mode === 'polling' ? 'polling' : null)));
      mock.heal(CIRCUIT);
      const t1 = Date.now();
      const healed = await until(9000, () => poll.$eval('.overview .tile[data-node="jaipur/amer"]', (t) => t.dataset.status === 'up'));
      check(pmode && healed, `with the event stream blocked the page polls (${pmode}) and shows the heal after ${Date.now() - t1} ms`);
      await poll.close();
    }
    if (MOCK) { // the wall screen with a RajNet-sized network
      const big = createMock({ scale: true, cutDelayMs: 0 });
      await new Promise((r) => big.server.listen(0, '127.0.0.1', r));
      const wall = await ctx.newPage();
      await wall.goto(`http://127.0.0.1:${big.server.address().port}/#/`);
      const n = await until(10000, async () => { const c = await wall.$$eval('.tile[data-node]', (t) => t.length); return c >= 400 ? c : null; });
      await sleep(1500);
      const fits = await wall.evaluate(() => { const m = document.querySelector('.map'); return m.scrollHeight <= m.clientHeight + 2; });
      check(n >= 400 && fits, `a 401-node RajNet fits one 1920x1080 wall screen (${n} tiles, no scrolling: ${fits})`);
      await wall.screenshot({ path: path.join(SHOTS, 'wall.png') });
      ok(`screenshot ${path.join(SHOTS, 'wall.png')}`);
      big.close();
      // the full state: 350 blocks x 27 villages, rolled up by district
      const state = createMock({ scale: true, villages: 27, cutDelayMs: 0 });
      await new Promise((r) => state.server.listen(0, '127.0.0.1', r));
      const sbase = `http://127.0.0.1:${state.server.address().port}`;
      state.cut('JAI-B0-3000');            // jaipur/sadar: its 27 villages go down with it
      const sp = await ctx.newPage();
      const t0 = Date.now();
      await sp.goto(`${sbase}/#/`);
      const rows = await until(20000, async () => { const c = await sp.$$eval('.district.rollup', (d) => d.length); return c ? c : null; });
      const ms = Date.now() - t0;
      const roll = await until(5000, () => sp.evaluate(() => {
        const d = document.querySelector('.district.rollup[data-district="jaipur"]');
        const num = (s) => Number((d.querySelector(`.cnt[data-count="${s}"]`) || { textContent: 'x' }).textContent.replace(/\D/g, ''));
        const all = [...document.querySelectorAll('.district.rollup')].reduce((a, x) => a + Number(x.querySelector('.dcount').textContent.split('/').pop().replace(/\D/g, '')), 0);
        return d && num('down') ? { down: num('down'), up: num('up'), tiles: document.querySelectorAll('.tile').length, all } : null;
      }));
      const total = await sp.evaluate(() => fetch('/api/v1/nodes').then((r) => r.json()).then((j) => j.nodes.length));
      check(rows === 50 && roll && roll.down === 28 && roll.up === 1 + 7 * 28 - 28 && roll.tiles < 1000 && roll.all === total - 1,
        `a ${total}-node state is rolled up by district: ${rows} rows in ${ms} ms, jaipur ${roll && roll.up} up / ${roll && roll.down} down (its cut block and villages), ${roll && roll.tiles} tiles drawn, counts over ${roll && roll.all} offices`);
      await sp.click('.district.rollup[data-district="jaipur"] > summary');
      const blk = await until(5000, () => sp.evaluate(() => {
        const b = document.querySelector('.district[data-district="jaipur"] .rblock[data-block="jaipur/sadar"]');
        return b && b.offsetParent ? b.querySelector('.vcount').textContent : null;
      }));
      check(blk && /27\/27 villages not up/.test(blk), `expanding jaipur shows its blocks with their villages' counts (jaipur/sadar: "${blk}")`);
      await sp.screenshot({ path: path.join(SHOTS, 'state.png') });
      await sp.click('.rblock[data-block="jaipur/sadar"] a.tile');
      const vill = await until(10000, async () => { const c = await sp.$$eval('.tile[data-node^="jaipur/sadar/gp"]', (t) => t.map((x) => x.dataset.status)); return c.length ? c : null; });
      check(vill && vill.length === 27 && vill.every((s) => s === 'down'), `the block's page lists its 27 villages with their status (${vill && vill.length}, ${vill && [...new Set(vill)].join(',')})`);
      await sp.close();
      state.close();
    }
  } catch (e) {
    notOk('the browser test ran to the end', String(e.message || e).split('\n')[0]);
    console.log(`# ${String(e.stack || e).replace(/\n/g, '\n# ')}`);
  } finally {
    if (cut && !MOCK) { try { execFileSync(SIM, ['heal', CIRCUIT], { stdio: 'ignore' }); } catch { /* */ } }
    await cleanup();
  }
}

await main();
console.log(fails ? `# ${fails} check(s) failed` : '# all checks passed');
process.exit(fails ? 1 : 0);

// Browser check of the police video surveillance page (#/cctv) in headless Chromium (Debian's
// /usr/bin/chromium driven by npm playwright-core), against the real collector. Prints TAP-style
// "ok - …" / "not ok - …" lines and exits 1 on a failure.
//
//   node cctv.test.mjs DISTRICT STATION CAMERA=STATE...   e.g. jaipur ps-sanganer gate=down lockup=up
//
// Opens #/cctv?district=DISTRICT at RAJNET_HTTP (default http://127.0.0.1:8080) and waits (up to
// 15 s; the page re-reads every 5 s) until the station's row shows every CAMERA in STATE, and the
// row is flagged (class "bad", an alarm pill) exactly when a camera is down; stations of other
// districts must not be listed (RAJNET_CCTV_STATIONS: the district's stations, comma-separated,
// when it has more than STATION). A screenshot goes to RAJNET_SCREENSHOTS/cctv-<state>.png.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = process.env.RAJNET_SCREENSHOTS || path.join(here, '../out/screenshots');
const base = (process.env.RAJNET_HTTP || 'http://127.0.0.1:8080').replace(/\/$/, '');
const [district, station, ...want] = process.argv.slice(2);
const expect = Object.fromEntries(want.map((w) => w.split('=')));
// RAJNET_CCTV_NVR: the state the station's NVR must show (up|down|unknown); unset: not checked
const wantNvr = process.env.RAJNET_CCTV_NVR || '';
// RAJNET_CCTV_REC: the state its recording stream must show (ok|degraded|unknown); unset: not checked
const wantRec = process.env.RAJNET_CCTV_REC || '';
const anyDown = Object.values(expect).includes('down') || wantNvr === 'down' || wantRec === 'degraded';
let fails = 0;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, why) => { fails++; console.log(`not ok - ${name}${why ? `: ${why}` : ''}`); };

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rn-chromium-'));
const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  headless: true, viewport: { width: 1600, height: 900 },
});
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/#/cctv?district=${encodeURIComponent(district)}`, { waitUntil: 'domcontentloaded' });
  const rowSel = `.cctv-page tr[data-station="${station}"]`;
  let seen = {};
  const t0 = Date.now();
  let match = false;
  while (Date.now() - t0 < 15000) {
    seen = await page.$$eval(`${rowSel} [data-camera]`, (els) => Object.fromEntries(els.map((e) => [e.dataset.camera, e.dataset.state]))).catch(() => ({}));
    if (wantNvr) seen.nvr = await page.$eval(`${rowSel} [data-nvr-state]`, (e) => e.dataset.nvrState).catch(() => '');
    if (wantRec) seen.recording = await page.$eval(`${rowSel} [data-rec-state]`, (e) => e.dataset.recState).catch(() => '');
    if (Object.keys(expect).every((k) => seen[k] === expect[k]) && (!wantNvr || seen.nvr === wantNvr) &&
        (!wantRec || seen.recording === wantRec)) { match = true; break; }
    await page.waitForTimeout(250);
  }
  const shown = Object.entries(seen).map(([k, v]) => `${k}=${v}`).join(' ');
  if (wantNvr) want.push(`nvr=${wantNvr}`);
  if (wantRec) want.push(`recording=${wantRec}`);
  if (match) ok(`#/cctv?district=${district}: ${station} shows ${want.join(' ')} after ${Date.now() - t0} ms`);
  else notOk(`#/cctv?district=${district}: ${station} shows ${want.join(' ')}`, `shows "${shown}"`);
  const flagged = await page.$eval(rowSel, (tr) => tr.classList.contains('bad') && !!tr.querySelector('[data-alarm]')).catch(() => null);
  if (flagged === anyDown) ok(`${station}'s row is ${anyDown ? '' : 'not '}flagged with its open alarm`);
  else notOk(`${station}'s row flagged = ${anyDown}`, `flagged = ${flagged}`);
  const stations = await page.$$eval('.cctv-page tr[data-station]', (els) => els.map((e) => e.dataset.station));
  // the district's stations (RAJNET_CCTV_STATIONS, comma-separated; default: the station alone)
  const districtStations = (process.env.RAJNET_CCTV_STATIONS || station).split(',');
  const others = stations.filter((s) => !districtStations.includes(s));
  if (stations.includes(station) && others.length === 0) ok(`only ${district}'s stations are listed (${stations.join(', ')})`);
  else notOk(`only ${district}'s stations are listed`, stations.join(', '));
  if (errors.length) notOk('no page errors', errors.join('; ')); else ok('no page errors');
  fs.mkdirSync(SHOTS, { recursive: true });
  const shot = wantRec === 'degraded' ? 'rec-degraded' : wantNvr === 'down' ? 'nvr-down' : anyDown ? 'down' : 'up';
  await page.screenshot({ path: path.join(SHOTS, `cctv-${shot}.png`) });
} catch (e) {
  notOk('the cctv page loads', e.message);
} finally {
  await ctx.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.exit(fails ? 1 : 0);

// Browser test of the NOC dashboard's asset register page (#/assets) in headless Chromium
// (Debian's /usr/bin/chromium driven by npm playwright-core), against the real collector that
// tests/integration/test_assets.sh runs (snmpsim serving a recorded Cisco C3750 stack).
// Prints TAP-style "ok - …" / "not ok - …" lines and exits 1 on a failure.
//
//   RAJNET_HTTP=http://127.0.0.1:PORT RAJNET_SERIAL=<chassis serial> node assets.test.mjs
//
// What a NOC operator must see: the navigation link; the device row with its model, serial,
// owner department, AMC vendor and contract dates; its AMC (ending in 20 days) flagged as
// expiring; the file entry no device reports flagged as a discrepancy; the district and
// "expiring" filters; and a CSV download link for exactly the rows on screen.
// Screenshot: RAJNET_SCREENSHOTS (default <repo>/tests/out/screenshots)/assets.png.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const BASE = process.env.RAJNET_HTTP || 'http://127.0.0.1:8080';
const SERIAL = process.env.RAJNET_SERIAL || '';
const SHOTS = process.env.RAJNET_SCREENSHOTS || path.join(repo, 'tests/out/screenshots');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let fails = 0;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, why) => { fails++; console.log(`not ok - ${name}${why ? `: ${why}` : ''}`); };
const check = (cond, name, why) => (cond ? ok(name) : notOk(name, why));

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE}/`);
  const link = page.locator('header nav a[href="#/assets"]');
  check(await link.count() === 1, 'the navigation has an Assets link');
  const t0 = Date.now();
  await link.click();
  const row = page.locator(`table.assets tr[data-device="sw1"]`);
  try {
    await row.waitFor({ timeout: 10000 });
    ok(`#/assets lists sw1 ${Date.now() - t0} ms after the click`);
  } catch {
    notOk('#/assets lists sw1', (await page.locator('.assets-page').innerText()).slice(0, 200));
  }
  const cells = (await row.locator('td').allInnerTexts()).map((s) => s.trim());
  // District, Node, Device, Model, Serial, Owner department, AMC vendor, AMC end, Warranty end, Flags
  check(cells[0] === 'jaipur' && cells[1] === 'jaipur' && cells[4] === SERIAL,
    `sw1's row: district jaipur, serial ${SERIAL}, model ${cells[3]}`, JSON.stringify(cells));
  check(cells[5] === 'DoIT&C' && cells[6] === 'Example AMC Services',
    'owner department and AMC vendor from the asset file', JSON.stringify(cells.slice(5, 7)));
  const amc = row.locator('td.date').first();
  const amcClass = await amc.getAttribute('class');
  check(/expiring/.test(amcClass) && /\(in \d+ d\)/.test(await amc.innerText()),
    `the AMC ending within 30 days is highlighted: "${(await amc.innerText()).trim()}"`, amcClass);
  check(!/expiring|expired/.test(await row.locator('td.date').nth(1).getAttribute('class')),
    'the warranty, 400 days away, is not');
  const gone = page.locator('table.assets tr.discrepancy[data-discrepancy="not_reported"]');
  check(await gone.count() === 1 && /no device reports it/i.test(await gone.innerText()),
    'the file entry no device reports is highlighted as a discrepancy, in words');
  check(/aria-current/.test(await link.evaluate((a) => a.outerHTML)), 'the Assets link is marked current');

  await page.selectOption('#asset-district', 'jaipur');
  await page.waitForFunction(() => location.hash === '#/assets?district=jaipur');
  await page.waitForFunction(() => document.querySelectorAll('table.assets tbody tr').length === 2);
  ok('district filter jaipur: the hash follows, 2 rows (sw1 and the unreported jaipur entry)');
  await page.check('#asset-expiring');
  await page.waitForFunction(() => document.querySelectorAll('table.assets tbody tr').length === 1);
  const only = await page.locator('table.assets tbody tr').getAttribute('data-device');
  check(only === 'sw1', '"expiring" filter: only sw1 (its AMC) is left', only);
  const href = await page.locator('#asset-csv').getAttribute('href');
  check(/format=csv/.test(href) && /district=jaipur/.test(href) && /expiring_within=30/.test(href),
    `the CSV link carries the filters: ${href}`, href);
  const csv = await page.evaluate(async (h) => (await fetch(h)).text(), href);
  const lines = csv.trim().split('\n');
  check(lines[0].startsWith('node,device,model,serial') && lines.length === 2 && lines[1].includes(SERIAL),
    `the CSV download has the same rows as the screen (${lines.length - 1})`, csv.slice(0, 200));
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('table.assets tbody tr').length === 1);
  check(await page.locator('#asset-expiring').isChecked(), 'a reload keeps the filters (they live in the hash)');
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.uncheck('#asset-expiring');
  await page.selectOption('#asset-district', '');
  await page.waitForFunction(() => document.querySelectorAll('table.assets tbody tr').length >= 2);
  await page.screenshot({ path: path.join(SHOTS, 'assets.png'), fullPage: true });
  check(errors.length === 0, 'no script errors on the page', errors.join('; '));
} catch (e) {
  notOk('the asset page test ran to its end', e.message.split('\n')[0]);
} finally {
  await browser.close();
}
process.exit(fails ? 1 : 0);

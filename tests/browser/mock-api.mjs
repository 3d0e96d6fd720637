// A stand-in for the collector's HTTP API (docs/api.md), for developing the NOC dashboard and
// running its browser test without the simulated RajNet. It serves dashboards/noc at / and
// /static/, the read endpoints, the ack endpoint with token roles, graphs (SVG) and SSE.
// Its network is deploy/sim/topology.yaml (read with a few regexes: enough for that file), or
// with --scale a generated RajNet of 50 districts and 350 blocks for the wall-screen view, and
// with --villages N also N villages under each block (--villages 27: ~10,000 nodes, the
// rolled-up overview).
//
//   node mock-api.mjs [--port 8089] [--scale [--villages N]] [--cut-delay-ms 3000]
//   POST /mock/cut/<circuit>  POST /mock/heal/<circuit>   (what rajnet-sim cut/heal does)
//
// Tokens: rajnet-demo-operator (operator), rajnet-demo-viewer (viewer).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const dashDir = path.join(repo, 'dashboards/noc');

const TOKENS = { 'rajnet-demo-operator': { name: 'noc-demo', role: 'operator' }, 'rajnet-demo-viewer': { name: 'nms', role: 'viewer' } };

function parseTopology(text) {
  const vendors = {}; const services = {}; const nodes = [];
  let section = null; let cur = null;
  for (const line of text.split('\n')) {
    const top = line.match(/^(\w+):/);
    if (top) { section = top[1]; continue; }
    if (section === 'vendors') {
      const m = line.match(/^\s+(\w+):\s*\{\s*name:\s*([^,}]+)/);
      if (m) vendors[m[1]] = m[2].trim();
    } else if (section === 'services') {
      const m = line.match(/^\s+(\w+):\s*\{\s*kind:\s*(\w+).*?node:\s*([\w/-]+)/);
      if (m) services[m[1]] = { kind: m[2], host: m[3] };
    } else if (section === 'nodes') {
      const n = line.match(/^ {2}([\w/-]+):\s*$/);
      if (n) { cur = { id: n[1], tier: null, parent: null, uplinks: [], devices: [] }; nodes.push(cur); continue; }
      if (!cur) continue;
      let m;
      if ((m = line.match(/^\s+tier:\s*(\w+)/))) cur.tier = m[1];
      if ((m = line.match(/^\s+parent:\s*([\w/-]+)/))) cur.parent = m[1];
      if ((m = line.match(/name:\s*(\w+),\s*addr/))) cur.devices.push(m[1]);
      if ((m = line.match(/circuit:\s*([\w-]+),\s*vendor:\s*(\w+),\s*kind:\s*(\w+),\s*mbps:\s*(\d+),\s*sla:\s*(\w+),\s*role:\s*(\w+)/))) {
        cur.uplinks.push({ circuit: m[1], vendor: m[2], kind: m[3], mbps: Number(m[4]), sla: m[5], role: m[6] });
      }
    }
  }
  return { vendors, services, nodes };
}

/** scaledTopology with `villages` agentless village nodes under each block (0: none). */
function scaledTopology(villages = 0) {
  const names = ['jaipur', 'ajmer', 'alwar', 'banswara', 'baran', 'barmer', 'bharatpur', 'bhilwara', 'bikaner', 'bundi',
    'chittorgarh', 'churu', 'dausa', 'dholpur', 'dungarpur', 'hanumangarh', 'jaisalmer', 'jalore', 'jhalawar', 'jhunjhunu',
    'jodhpur', 'karauli', 'kota', 'nagaur', 'pali', 'pratapgarh', 'rajsamand', 'sawaimadhopur', 'sikar', 'sirohi',
    'sriganganagar', 'tonk', 'udaipur', 'anupgarh', 'balotra', 'beawar', 'deeg', 'didwana', 'gangapur', 'kekri',
    'khairthal', 'kotputli', 'phalodi', 'salumbar', 'sanchore', 'shahpura', 'bhiwadi', 'nohar', 'nathdwara', 'mount-abu'];
  const blockNames = ['sadar', 'tehsil', 'kasba', 'nagar', 'gramin', 'purva', 'paschim', 'uttar'];
  const nodes = [{ id: 'sdc', tier: 'sdc', parent: null, uplinks: [], devices: ['core1'] }];
  names.forEach((d, i) => {
    const code = d.slice(0, 3).toUpperCase();
    nodes.push({ id: d, tier: 'district', parent: 'sdc', devices: ['rtr1'],
      uplinks: [{ circuit: `${code}-MPLS-${String(100 + i).padStart(4, '0')}`, vendor: i % 3 ? 'bsnl' : 'railtel', kind: 'mpls', mbps: 34, sla: 'dhq', role: 'primary' }] });
    for (let b = 0; b < 7; b++) {
      nodes.push({ id: `${d}/${blockNames[b]}`, tier: 'block', parent: d, devices: ['rtr1'],
        uplinks: [{ circuit: `${code}-B${b}-${String(3000 + i * 10 + b)}`, vendor: b % 2 ? 'airjaldi' : 'bsnl', kind: b % 2 ? 'radio' : 'mpls', mbps: 8, sla: 'bhq', role: 'primary' }] });
      for (let v = 0; v < villages; v++) {
        nodes.push({ id: `${d}/${blockNames[b]}/gp${String(v + 1).padStart(2, '0')}`, tier: 'village', parent: `${d}/${blockNames[b]}`, devices: ['rtr1'],
          uplinks: [{ circuit: `${code}-B${b}-G${v}-${String(3000 + i * 10 + b)}`, vendor: 'hughes', kind: v % 3 ? 'radio' : 'vsat', mbps: 2, sla: 'gp', role: 'primary' }] });
      }
    }
  });
  return { vendors: { bsnl: 'BSNL', railtel: 'RailTel', airjaldi: 'AirJaldi Radio', hughes: 'Hughes VSAT' },
    services: { vc: { kind: 'vc', host: 'sdc' }, emitra: { kind: 'egov', host: 'sdc' }, rajsampark: { kind: 'egov', host: 'sdc' } }, nodes };
}

export function createMock({ scale = false, villages = 0, cutDelayMs = 3000 } = {}) {
  const topo = scale ? scaledTopology(villages) : parseTopology(fs.readFileSync(path.join(repo, 'deploy/sim/topology.yaml'), 'utf8'));
  const started = Date.now();
  const byId = new Map(topo.nodes.map((n) => [n.id, n]));
  const linkState = new Map();           // circuit -> 'up' | 'down' | 'degraded'
  for (const n of topo.nodes) for (const l of n.uplinks) linkState.set(l.circuit, 'up');
  const alarms = [];                     // every alarm ever, flat
  let nextId = 1;
  const clients = new Set();
  const outages = [];

  const ancestors = (id) => { const out = []; let n = byId.get(id); while (n && n.parent) { out.push(n.parent); n = byId.get(n.parent); } return out; };
  const subtree = (id) => topo.nodes.filter((n) => n.id === id || ancestors(n.id).includes(id)).map((n) => n.id);
  const nodeDown = (id) => [id, ...ancestors(id)].some((x) => { const n = byId.get(x); return n && n.uplinks.length && n.uplinks.every((l) => linkState.get(l.circuit) === 'down'); });
  const nodeStatus = (id) => (nodeDown(id) ? 'down' : byId.get(id).uplinks.some((l) => linkState.get(l.circuit) === 'degraded') ? 'degraded' : 'up');

  const link = (n, l) => ({ circuit: l.circuit, node: n.id, remote_node: n.parent, vendor: l.vendor, vendor_name: topo.vendors[l.vendor] || l.vendor,
    kind: l.kind, mbps: l.mbps, sla: l.sla, role: l.role, status: linkState.get(l.circuit) });
  const district = (n) => (n.tier === 'sdc' ? null : n.tier === 'district' ? n.id : ancestors(n.id).find((a) => byId.get(a).tier === 'district'));
  const nodeJson = (n) => ({ id: n.id, tier: n.tier, parent: n.parent, district: district(n), status: nodeStatus(n.id), connected: true,
    last_seen_ms: Date.now() - 800, uplinks: n.uplinks.map((l) => link(n, l)),
    reaches: Object.fromEntries(Object.keys(topo.services).map((s) => [s, !nodeDown(n.id)])) });
  const active = () => alarms.filter((a) => a.cleared_ms === null);
  // VC media quality per capture (API VcCapture): ajmer good, ajmer/kishangarh warn, jaipur/amer
  // bad, the rest capture no media; an office cut off keeps the figures of its last report.
  const VC = { ajmer: [4.38, 0, 1.4, 2], 'ajmer/kishangarh': [3.82, 1.8, 22.5, 1], 'jaipur/amer': [3.1, 7.5, 41, 1] };
  const lastVc = new Map();
  const vcCapture = (n) => {
    if (!n.parent) return null;
    const [mos, loss, jit, streams] = VC[n.id] || [null, null, null, 0];
    if (!nodeDown(n.id) || !lastVc.has(n.id)) {
      lastVc.set(n.id, { capture: 'vc', packets: streams * 250, loss_pct: loss, jitter_ms: jit, mos, streams,
        handshakes: 3, handshake_ms: 0.4, time_ms: nodeDown(n.id) ? Date.now() - 90000 : Date.now() - 2000 });
    }
    return lastVc.get(n.id);
  };
  const withSymptoms = (a) => ({ ...a, symptoms: alarms.filter((s) => s.root_id === a.id && (s.cleared_ms === null || a.cleared_ms !== null)) });

  function send(event, data) {
    const msg = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(msg);
  }
  function status() {
    const c = { total: topo.nodes.length, up: 0, down: 0, degraded: 0, silent: 0, unknown: 0 };
    for (const n of topo.nodes) c[nodeStatus(n.id)]++;
    return { version: 'mock', started_ms: started, now_ms: Date.now(), agents_connected: topo.nodes.length, nodes: c,
      alarms_active: active().filter((a) => !a.root_id).length, samples_per_s: 42 };
  }
  setInterval(() => send('status', status()), 5000).unref();

  function cut(circuit) {
    const n = topo.nodes.find((x) => x.uplinks.some((l) => l.circuit === circuit));
    if (!n) return false;
    setTimeout(() => {
      linkState.set(circuit, 'down');
      const l = n.uplinks.find((x) => x.circuit === circuit);
      const impact = subtree(n.id);
      const now = Date.now();
      const root = { id: nextId++, type: 'link_down', severity: 1, node: n.id, entity: circuit, vendor: l.vendor, circuit, root_id: 0,
        text: `${circuit} (${topo.vendors[l.vendor]}) down: ${n.id} cut off from ${n.parent}`, impact_nodes: impact,
        impact_services: Object.keys(topo.services), raised_ms: now, cleared_ms: null, planned: false, acked_by: null, acked_ms: null, ack_comment: null };
      alarms.push(root);
      send('alarm', { kind: 'raised', alarm: root });
      outages.push({ id: outages.length + 1, alarm_id: root.id, entity: circuit, kind: 'link', vendor: l.vendor, circuit, root_cause: root.text, start_ms: now - 2000, end_ms: null, planned: false });
      setTimeout(() => {
        for (const id of impact.slice(1)) {
          const s = { id: nextId++, type: 'path_lost', severity: 1, node: id, entity: id, vendor: null, circuit: null, root_id: root.id,
            text: `${id} reaches ${byId.get(id).parent} but not sdc`, impact_nodes: [id], impact_services: Object.keys(topo.services),
            raised_ms: Date.now(), cleared_ms: null, planned: false, acked_by: null, acked_ms: null, ack_comment: null };
          alarms.push(s);
          send('alarm', { kind: 'symptom_of', alarm: s });
        }
      }, 500);
    }, cutDelayMs);
    return true;
  }
  function heal(circuit) {
    linkState.set(circuit, 'up');
    for (const a of active()) {
      const root = a.root_id ? alarms.find((r) => r.id === a.root_id) : a;
      if (root.circuit === circuit) { a.cleared_ms = Date.now(); send('alarm', { kind: 'cleared', alarm: a }); }
    }
    for (const o of outages) if (o.circuit === circuit && !o.end_ms) o.end_ms = Date.now();
  }
  if (scale) { // some life on the wall screen
    cut('BAR-MPLS-0104'); setTimeout(() => linkState.set('JOD-B3-3203', 'degraded'), 10);
    cut('UDA-B5-3325');
  }

  function json(res, code, body) {
    res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  }
  function readBody(req) {
    return new Promise((resolve) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => resolve(b)); });
  }
  function graphSvg(q) {
    const w = 500; const h = 200; const pts = [];
    for (let i = 0; i <= 60; i++) pts.push(`${30 + i * 7.5},${150 - 40 * Math.abs(Math.sin(i / 6 + String(q.get('object')).length))}`);
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#fff"/>
      <text x="10" y="16" font-size="12" font-family="sans-serif">${(q.get('node') + ' ' + q.get('source') + ' ' + (q.get('device') || '') + ' ' + q.get('object')).replace(/[<&]/g, '')}</text>
      <polyline fill="none" stroke="#0a0" stroke-width="2" points="${pts.join(' ')}"/><line x1="30" y1="40" x2="480" y2="40" stroke="#c00"/></svg>`;
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    let m;
    if (req.method === 'GET' && (p === '/' || p.startsWith('/static/'))) {
      const file = p === '/' ? 'index.html' : p.slice('/static/'.length);
      const full = path.join(dashDir, path.normalize(file));
      if (!full.startsWith(dashDir) || !fs.existsSync(full)) return json(res, 404, { error: `no such file ${p}` });
      const type = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' }[path.extname(full)] || 'application/octet-stream';
      res.writeHead(200, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-cache' });
      return res.end(fs.readFileSync(full));
    }
    if (req.method === 'POST' && (m = p.match(/^\/mock\/(cut|heal)\/(.+)$/))) {
      if (m[1] === 'cut') return json(res, cut(m[2]) ? 200 : 404, { ok: true });
      heal(m[2]); return json(res, 200, { ok: true });
    }
    if (p === '/api/v1/status') return json(res, 200, status());
    if (p === '/api/v1/nodes') return json(res, 200, { nodes: topo.nodes.map(nodeJson) });
    if ((m = p.match(/^\/api\/v1\/nodes\/(.+)$/))) {
      const n = byId.get(decodeURIComponent(m[1]));
      if (!n) return json(res, 404, { error: `unknown node '${decodeURIComponent(m[1])}'` });
      const down = nodeDown(n.id);
      return json(res, 200, { ...nodeJson(n),
        interfaces: [...n.uplinks.map(() => ({ device: n.devices[0], ifname: 'wan0', oper: down && n.uplinks.every((l) => linkState.get(l.circuit) === 'down') ? 2 : 1, in_bps: down ? 0 : 182000, out_bps: down ? 0 : 96000, speed_bps: 10e9 })),
          ...topo.nodes.filter((c) => c.parent === n.id).map((c) => ({ device: n.devices[0], ifname: c.id.split('/').pop().slice(0, 15), oper: 1, in_bps: 50000, out_bps: 120000, speed_bps: 10e9 }))],
        probes: n.parent ? [{ target: n.parent, rtt_ms: down ? null : 0.08, loss_pct: down ? 100 : 0, jitter_ms: 0.01, time_ms: Date.now() - 1000 },
          ...(n.parent !== 'sdc' ? [{ target: 'sdc', rtt_ms: down ? null : 0.12, loss_pct: down ? 100 : 0, jitter_ms: 0.02, time_ms: Date.now() - 1000 }] : [])] : [],
        vc: [vcCapture(n)].filter(Boolean),
        alarms: alarms.filter((a) => a.node === n.id).slice(-40),
        outages: outages.filter((o) => subtree(byId.get(topo.nodes.find((x) => x.uplinks.some((l) => l.circuit === o.circuit)).id).id).includes(n.id)) });
    }
    if (p === '/api/v1/series') {
      const n = byId.get(url.searchParams.get('node'));
      if (!n) return json(res, 404, { error: `unknown node '${url.searchParams.get('node')}'` });
      const s = [];
      if (n.uplinks.length) s.push({ node: n.id, source: 'if', device: n.devices[0], object: 'wan0', path: '' });
      if (n.parent) s.push({ node: n.id, source: 'icmp', device: null, object: n.parent, path: '' });
      if (n.parent && n.parent !== 'sdc') s.push({ node: n.id, source: 'icmp', device: null, object: 'sdc', path: '' });
      if (n.parent) s.push({ node: n.id, source: 'rtp', device: '', object: 'vc', path: '' }, { node: n.id, source: 'tcphs', device: '', object: 'vc', path: '' });
      return json(res, 200, { series: s });
    }
    if (p === '/api/v1/graph') {
      if (!url.searchParams.get('node') || !url.searchParams.get('object')) return json(res, 400, { error: 'node and object are required' });
      res.writeHead(200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'no-cache' });
      return res.end(graphSvg(url.searchParams));
    }
    if (p === '/api/v1/links') return json(res, 200, { links: topo.nodes.flatMap((n) => n.uplinks.map((l) => link(n, l))) });
    if (p === '/api/v1/services') {
      return json(res, 200, { services: Object.entries(topo.services).map(([name, s]) => ({ name, kind: s.kind, host: s.host,
        unreachable_from: topo.nodes.filter((n) => nodeDown(n.id)).map((n) => {
          const root = active().find((a) => !a.root_id && subtree(a.node).includes(n.id));
          return { node: n.id, alarm_id: root ? root.id : 0, reason: root ? `path to ${s.host} broken: ${root.circuit || root.entity} down` : 'path down' };
        }),
        ...(s.kind === 'vc' ? { vc_quality: topo.nodes.map((n) => (vcCapture(n) ? { node: n.id, ...vcCapture(n) } : null)).filter(Boolean) } : {}) })) });
    }
    if (p === '/api/v1/alarms') {
      const list = url.searchParams.get('state') === 'all' ? alarms : active();
      return json(res, 200, { alarms: list.filter((a) => !a.root_id).sort((a, b) => b.raised_ms - a.raised_ms).map(withSymptoms) });
    }
    if (req.method === 'POST' && (m = p.match(/^\/api\/v1\/alarms\/(\d+)\/ack$/))) {
      const auth = (req.headers.authorization || '').match(/^Bearer (.+)$/);
      const body = await readBody(req);
      if (!auth) return json(res, 401, { error: 'authorization: a bearer token is required' });
      const t = TOKENS[auth[1]];
      if (!t) return json(res, 401, { error: 'authorization: unknown token' });
      if (t.role !== 'operator') return json(res, 403, { error: `authorization: token '${t.name}' (role ${t.role}) may not acknowledge` });
      const a = alarms.find((x) => x.id === Number(m[1]));
      if (!a) return json(res, 404, { error: `alarm ${m[1]}: no such alarm` });
      let comment = '';
      try { comment = JSON.parse(body || '{}').comment || ''; } catch { return json(res, 400, { error: 'body: not JSON' }); }
      Object.assign(a, { acked_by: t.name, acked_ms: Date.now(), ack_comment: comment });
      send('alarm', { kind: 'acknowledged', alarm: a });
      return json(res, 200, a);
    }
    if (p === '/api/v1/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': hello\n\n');
      res.write(`event: status\ndata: ${JSON.stringify(status())}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return undefined;
    }
    return json(res, 404, { error: `no such endpoint ${p}` });
  });
  return { server, cut, heal, close: () => { for (const c of clients) c.destroy(); server.close(); } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
  const port = Number(opt('--port', 8089));
  const mock = createMock({ scale: args.includes('--scale'), villages: Number(opt('--villages', 0)),
    cutDelayMs: Number(opt('--cut-delay-ms', 3000)) });
  mock.server.listen(port, '127.0.0.1', () => console.log(`mock RajNet API on http://127.0.0.1:${port}/`));
}

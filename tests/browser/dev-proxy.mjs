// Front-end development against a running collector: serves dashboards/noc from the working
// tree at / and /static/ (so an edit shows on reload, no collector restart) and passes /api/ and
// /metrics through to the collector, SSE included.
//
//   node dev-proxy.mjs [--port 8090] [--collector http://127.0.0.1:8080]

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dashDir = path.resolve(here, '../../dashboards/noc');
const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const port = Number(opt('--port', 8090));
const upstream = new URL(opt('--collector', process.env.RAJNET_HTTP || 'http://127.0.0.1:8080'));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };

http.createServer((req, res) => {
  const p = new URL(req.url, 'http://x').pathname;
  if (req.method === 'GET' && (p === '/' || p.startsWith('/static/'))) {
    const full = path.join(dashDir, path.normalize(p === '/' ? 'index.html' : p.slice(8)));
    if (!full.startsWith(dashDir) || !fs.existsSync(full)) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'Content-Type': `${TYPES[path.extname(full)] || 'application/octet-stream'}; charset=utf-8`, 'Cache-Control': 'no-cache' });
    return res.end(fs.readFileSync(full));
  }
  const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => { res.writeHead(502, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ error: `collector: ${e.message}` })); });
  req.pipe(up);
}).listen(port, '127.0.0.1', () => console.log(`dashboard on http://127.0.0.1:${port}/, API from ${upstream.origin}`));

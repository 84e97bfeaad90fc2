// The plain-HTTP side of the broker's WebSocket port: the dashboard page and the few files it loads.
// Files are read per request (they are small and requests are rare), so a rebuild shows up on reload.
// Nothing else is served: the table below is the whole list, so no path from a request reaches the disk.
import * as fs from 'fs';
import type * as http from 'http';
import * as path from 'path';

const ROOT = packageRoot();
const DASHBOARD = path.join(ROOT, 'broker', 'dashboard');
// found as Node finds the package: in an installed sparrow-mqtt, uplot sits beside it, not inside it
const UPLOT = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');

/** URL path → file and content type. The page's script and the codec come from `npm run build`. */
const FILES: { [url: string]: [string, string] } = {
  '/': [path.join(DASHBOARD, 'index.html'), 'text/html; charset=utf-8'],
  '/style.css': [path.join(DASHBOARD, 'style.css'), 'text/css; charset=utf-8'],
  '/dashboard.js': [path.join(ROOT, 'dist', 'browser', 'dashboard.js'), 'text/javascript; charset=utf-8'],
  '/sparrow-mqtt.js': [path.join(ROOT, 'dist', 'browser', 'sparrow-mqtt.js'), 'text/javascript; charset=utf-8'],
  '/uPlot.iife.min.js': [path.join(UPLOT, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  '/uPlot.min.css': [path.join(UPLOT, 'uPlot.min.css'), 'text/css; charset=utf-8'],
};

/** Answers a plain HTTP request on the WebSocket port; `wsPath` is told to the page. */
export function serveHttp(req: http.IncomingMessage, res: http.ServerResponse, wsPath: string): void {
  const url = (req.url || '/').split('?')[0];
  const entry = FILES[url === '/index.html' ? '/' : url];
  if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`Not found. The dashboard is at /, MQTT over WebSocket at ${wsPath}\n`);
    return;
  }
  fs.readFile(entry[0], (err, data) => {
    if (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${path.relative(ROOT, entry[0])} is missing: run \`npm run build\`\n`);
      return;
    }
    // the page learns the WebSocket path from its own markup, so it needs no second request
    const body = url === '/' || url === '/index.html' ? Buffer.from(data.toString('utf8').replace('%WS_PATH%', escapeAttr(wsPath))) : data;
    res.writeHead(200, { 'content-type': entry[1], 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

function escapeAttr(s: string): string {
  return s.replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c]!);
}

/** The folder of package.json above this file, from the sources (broker/) or the bundle (dist/node). */
function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

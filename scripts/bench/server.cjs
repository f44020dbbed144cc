// Bench server (its own process): echoes; /flood?n=N&size=S sends N messages then closes.
// --deflate: permessage-deflate on, with ws's defaults (as many ws, aiohttp, tornado servers).
const { WebSocketServer } = require('ws');
const deflate = process.argv.includes('--deflate');
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  maxPayload: 1 << 30,
  perMessageDeflate: deflate,
});
wss.on('listening', () => process.stdout.write(`${wss.address().port}\n`));
wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/flood') {
    const n = Number(url.searchParams.get('n'));
    const msg = 'f'.repeat(Number(url.searchParams.get('size') || 64));
    let i = 0;
    const pump = () => {
      while (i < n) {
        ws.send(msg);
        i++;
        // Wait for the socket to drain (no busy loop: the client shares the cores).
        if (ws.bufferedAmount > 4 << 20) return ws._socket.once('drain', pump);
      }
      ws.close(1000);
    };
    pump();
    return;
  }
  ws.on('message', (d, b) => ws.send(d, { binary: b }));
});

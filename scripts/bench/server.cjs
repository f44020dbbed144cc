// Bench server (its own process): echoes; /flood?n=N&size=S sends N messages then closes.
// --deflate: permessage-deflate on, with ws's defaults (as many ws, aiohttp, tornado servers).
// --unbatched: ws as it comes, one socket write per message sent.
//
// By default the server corks its socket while it handles one read (the echoes of one incoming
// chunk go out in one write) and while it floods: otherwise it makes a system call per message,
// is the bottleneck of every pipe row, and every client measures about 1.0× (the README shows that
// case too). Batched, it is cheap enough that the rows measure the clients.
const { WebSocketServer } = require('ws');
const deflate = process.argv.includes('--deflate');
const batched = !process.argv.includes('--unbatched');
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  maxPayload: 1 << 30,
  perMessageDeflate: deflate,
});
wss.on('listening', () => process.stdout.write(`${wss.address().port}\n`));
wss.on('connection', (ws, req) => {
  // The upgrade request's socket is the one ws speaks on.
  const socket = req.socket;
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/flood') {
    const n = Number(url.searchParams.get('n'));
    const msg = 'f'.repeat(Number(url.searchParams.get('size') || 64));
    let i = 0;
    const pump = () => {
      if (batched) socket.cork();
      while (i < n) {
        ws.send(msg);
        i++;
        // Wait for the socket to drain (no busy loop: the client shares the cores).
        if (ws.bufferedAmount > 4 << 20) {
          if (batched) socket.uncork();
          return socket.once('drain', pump);
        }
      }
      if (batched) socket.uncork();
      ws.close(1000);
    };
    pump();
    return;
  }
  if (batched) {
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };
    // Before ws's own listener, which emits the chunk's messages synchronously.
    socket.prependListener('data', () => {
      if (corked) return;
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    });
  }
  ws.on('message', (d, b) => ws.send(d, { binary: b }));
});

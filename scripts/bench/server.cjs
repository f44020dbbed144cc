// Bench server (its own process): echoes; /flood?n=N&size=S sends N messages then closes.
// --deflate: permessage-deflate on, with ws's defaults (as many ws, aiohttp, tornado servers).
// --unbatched: ws as it comes, one socket write per message sent.
//
// By default the echoes of one incoming chunk go out in one write (framed into one buffer; with
// deflate, corked), and flooding is corked: otherwise the server makes a system call per message,
// is the bottleneck of every pipe row, and every client measures about 1.0× (the README shows that
// case too). Batched, it is cheap enough that the rows measure the clients.
const { Sender, WebSocketServer } = require('ws');
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
  if (batched && !deflate) {
    // The echoes of one read are framed into one buffer and written once, as a server built for
    // throughput does. Corking ws instead is not enough: each corked ws.send is two buffers, and
    // libuv writes at most IOV_MAX (1,024) buffers per turn of the server's loop, which spends
    // that turn reading 2 MB from a client that sends fast: 33 KB of echoes went back per turn,
    // the rest piled up in the server (12 MB by the end), and every client measured the stall.
    const write = socket.write;
    let out = [];
    let size = 0;
    const flush = () => {
      if (out.length === 0) return;
      const b = out.length === 1 ? out[0] : Buffer.concat(out, size);
      out = [];
      size = 0;
      write.call(socket, b);
    };
    // What ws writes itself (the reply to a close, a pong) goes after the echoes before it.
    socket.write = (...args) => {
      flush();
      return write.apply(socket, args);
    };
    ws.on('message', (d, b) => {
      const [head, body] = Sender.frame(d, {
        fin: true,
        opcode: b ? 2 : 1,
        mask: false,
        readOnly: true,
        rsv1: false,
      });
      if (out.length === 0) process.nextTick(flush);
      out.push(head, body);
      size += head.length + body.length;
    });
    return;
  }
  if (batched) {
    // With permessage-deflate ws compresses each echo (asynchronously): cork per read.
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

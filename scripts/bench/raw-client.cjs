// The practical limit: a minimal client written directly on ws that corks its socket per stdin
// chunk. Same job as wsx in each scenario:
//   raw-client.cjs URL pipe N      stdin lines → messages; print replies; exit after N replies
//   raw-client.cjs URL line        stdin lines → messages; at EOF close; print replies until closed
//   raw-client.cjs URL recv        print every message until the server closes
//   raw-client.cjs URL first       send "hello" and close at once; print replies until closed
//   raw-client.cjs URL stream      stdin chunks → binary messages, message bytes → stdout; EOF closes
// --deflate offers permessage-deflate the way wsx does; without it nothing is offered.
const WebSocket = require('ws');
const args = process.argv.slice(2);
const deflate = args.includes('--deflate');
const [url, mode, nText] = args.filter((a) => a !== '--deflate');
const n = Number(nText);
const ws = new WebSocket(url, {
  perMessageDeflate: deflate
    ? { clientNoContextTakeover: true, serverNoContextTakeover: true, threshold: 1024 }
    : false,
  maxPayload: 1 << 30,
});
let socket;
ws.on('upgrade', (res) => {
  socket = res.socket;
});
let received = 0;
let chunks = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  if (chunks.length) process.stdout.write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  chunks = [];
};
const NL = Buffer.from('\n');
ws.on('message', (data) => {
  if (mode === 'stream') chunks.push(data);
  else chunks.push(data, NL);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
  received++;
  if (mode === 'pipe' && received === n) ws.close(1000);
});
ws.on('close', () => {
  flush();
  process.stdin.destroy();
});
const pressure = () => {
  if (ws.bufferedAmount <= 4 << 20) return;
  process.stdin.pause();
  const wait = () => (ws.bufferedAmount > 1 << 20 ? setImmediate(wait) : process.stdin.resume());
  wait();
};
ws.on('open', () => {
  if (mode === 'first') {
    ws.send('hello');
    ws.close(1000);
    return;
  }
  if (mode === 'stream') {
    process.stdin.on('data', (chunk) => {
      ws.send(chunk, { binary: true });
      pressure();
    });
    process.stdin.on('end', () => ws.close(1000));
    return;
  }
  if (mode !== 'pipe' && mode !== 'line') return;
  let carry = Buffer.alloc(0);
  process.stdin.on('data', (chunk) => {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    socket.cork();
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, start)) {
      ws.send(buf.subarray(start, i), { binary: false });
      start = i + 1;
    }
    socket.uncork();
    carry = buf.subarray(start);
    pressure();
  });
  process.stdin.on('end', () => {
    if (carry.length) ws.send(carry, { binary: false });
    if (mode === 'line') ws.close(1000);
  });
});

// The practical limit: a minimal client written directly on ws. Same job as wsx in each scenario:
//   raw-client.cjs URL pipe N   stdin lines → messages; print replies; exit after N replies
//   raw-client.cjs URL recv     print every message until the server closes
//   raw-client.cjs URL first    send "hi", exit at the first reply
const WebSocket = require('ws');
const [url, mode, nText] = process.argv.slice(2);
const n = Number(nText);
const ws = new WebSocket(url);
let received = 0;
let chunks = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  if (chunks.length) process.stdout.write(Buffer.concat(chunks));
  chunks = [];
};
const NL = Buffer.from('\n');
ws.on('message', (data) => {
  chunks.push(data, NL);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
  received++;
  if ((mode === 'pipe' && received === n) || mode === 'first') ws.close(1000);
});
ws.on('close', () => {
  flush();
  process.stdin.destroy();
});
ws.on('open', () => {
  if (mode === 'first') return ws.send('hi');
  if (mode !== 'pipe') return;
  let carry = Buffer.alloc(0);
  process.stdin.on('data', (chunk) => {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, start)) {
      ws.send(buf.subarray(start, i), { binary: false });
      start = i + 1;
    }
    carry = buf.subarray(start);
    if (ws.bufferedAmount > 4 << 20) {
      process.stdin.pause();
      const wait = () =>
        ws.bufferedAmount > 1 << 20 ? setImmediate(wait) : process.stdin.resume();
      wait();
    }
  });
});

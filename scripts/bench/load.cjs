// Load for listen mode: C clients connect to URL, then each sends M messages of S bytes at once
// (one corked burst); the run ends when every client has all it must receive: its M echoes
// (echo), or the M × (C − 1) messages of the others (broadcast). Prints {"ms":…} on stdout:
// from the first send to the last message received.
//   load.cjs URL echo|broadcast C M S
const WebSocket = require('ws');
const [url, mode, cText, mText, sText] = process.argv.slice(2);
const C = Number(cText);
const M = Number(mText);
const S = Number(sText);
const want = mode === 'echo' ? M : M * (C - 1);
const clients = [];
let opened = 0;
let done = 0;
let t0 = 0;
for (let c = 0; c < C; c++) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let got = 0;
  let socket;
  ws.on('upgrade', (res) => {
    socket = res.socket;
  });
  ws.on('message', () => {
    if (++got === want && ++done === C) {
      process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0 })}\n`);
      for (const w of clients) w.ws.terminate();
    }
  });
  ws.on('error', (err) => {
    process.stderr.write(`load: ${err.message}\n`);
    process.exit(1);
  });
  ws.on('open', () => {
    clients.push({ ws, socket: () => socket });
    if (++opened === C) start();
  });
}
function start() {
  t0 = performance.now();
  for (const { ws, socket } of clients) {
    const s = socket();
    s.cork();
    for (let i = 0; i < M; i++) ws.send(`${String(i).padStart(S - 1, '.')}x`);
    s.uncork();
  }
}
setTimeout(() => {
  process.stderr.write(`load: timed out (${done} of ${C} clients done)\n`);
  process.exit(1);
}, 120_000).unref();

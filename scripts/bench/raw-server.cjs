// The raw counterpart of `wsx -l 0 --echo` / `--broadcast`: a ws server written directly on ws
// that prints every message it receives (a line each, batched per turn) and echoes it to its
// sender or broadcasts it to every other client.
//   raw-server.cjs echo|broadcast     prints "Listening on ws://127.0.0.1:PORT/" on stderr
const { WebSocketServer } = require('ws');
const mode = process.argv[2];
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('listening', () =>
  process.stderr.write(`Listening on ws://127.0.0.1:${wss.address().port}/\n`),
);
let chunks = [];
let scheduled = false;
const NL = Buffer.from('\n');
const flush = () => {
  scheduled = false;
  process.stdout.write(Buffer.concat(chunks));
  chunks = [];
};
wss.on('connection', (ws) => {
  ws.on('message', (data, binary) => {
    chunks.push(data, NL);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    if (mode === 'echo') ws.send(data, { binary });
    else for (const c of wss.clients) if (c !== ws) c.send(data, { binary });
  });
});
process.on('SIGTERM', () => {
  if (chunks.length) flush();
  process.stdout.write('', () => process.exit(0));
});

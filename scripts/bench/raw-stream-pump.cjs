// The --stream baseline (SPEC §16: --stream ≥ 0.9× a raw ws byte pump): a minimal client on ws
// doing the same job as `wsx --stream URL`: each stdin chunk is one binary message, stdin paused
// while ws holds more than 1 MiB, received bytes to stdout, close with 1000 at the end of stdin,
// exit when the connection ends.
//   raw-stream-pump.cjs URL < input > output

const WebSocket = require('ws');

const HIGH = 1024 * 1024;
const ws = new WebSocket(process.argv[2], { perMessageDeflate: false });
ws.on('open', () => {
  const waitForDrain = () => {
    if (ws.bufferedAmount <= HIGH) process.stdin.resume();
    else setImmediate(waitForDrain);
  };
  process.stdin.on('data', (chunk) => {
    ws.send(chunk, { binary: true });
    if (ws.bufferedAmount > HIGH) {
      process.stdin.pause();
      setImmediate(waitForDrain);
    }
  });
  process.stdin.on('end', () => ws.close(1000));
});
ws.on('message', (data) => {
  if (!process.stdout.write(data)) {
    ws.pause();
    process.stdout.once('drain', () => ws.resume());
  }
});
ws.on('close', () => process.stdout.write('', () => process.exit(0)));
ws.on('error', (err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});

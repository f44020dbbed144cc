// The built-in demo server (SPEC §9): greets with JSON, sends a binary frame, echoes, pings.

import type { AddressInfo } from 'node:net';

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

const PING_EVERY_MS = 15_000;

export async function startDemoServer(): Promise<DemoServer> {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const { port } = wss.address() as AddressInfo;

  wss.on('connection', (ws) => {
    ws.send(
      JSON.stringify({
        type: 'welcome',
        server: 'wsx demo',
        text: 'Everything you send is echoed back. Try JSON, /ping, /binary 00ff, /status, /help.',
        features: ['echo', 'json', 'binary', 'ping'],
      }),
    );
    ws.send(Buffer.from('wsx demo: a binary frame \x00\x01\x02\xff', 'latin1'), { binary: true });
    const timer = setInterval(() => ws.ping(Buffer.from('demo keepalive')), PING_EVERY_MS);
    timer.unref();
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('close', () => clearInterval(timer));
    ws.on('error', () => clearInterval(timer));
  });

  return {
    url: `ws://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

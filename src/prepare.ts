// Between validated options and the network: read TLS files, ask for secrets, resolve the proxy
// from the environment. Everything here can fail as a usage error (exit 2) before any socket.

import { readFileSync } from 'node:fs';
import { getProxyForUrl } from 'proxy-from-env';
import { describeFileError, usageError } from './errors.js';
import type { ConnectOptions, TlsOptions } from './options.js';

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  passphrase?: string;
  rejectUnauthorized: boolean;
}

export interface PreparedConnect extends ConnectOptions {
  tlsMaterial: TlsMaterial;
  /** The proxy to use for this URL, or undefined. */
  proxyUrl: string | undefined;
}

export type AskSecret = (message: string) => Promise<string>;

function readPem(option: string, path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw usageError(`cannot read ${option} file '${path}': ${describeFileError(err)}`);
  }
  if (!data.includes('-----BEGIN ')) {
    throw usageError(
      `${option} file '${path}' is not PEM`,
      'wsx reads PEM files (-----BEGIN …); convert PKCS#12 with openssl pkcs12 -nodes',
    );
  }
  return data;
}

/** The proxy for a ws/wss URL from HTTPS_PROXY (wss), HTTP_PROXY (ws), ALL_PROXY, NO_PROXY. */
export function proxyFromEnv(url: string): string | undefined {
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return undefined;
  // proxy-from-env keys on the scheme: ask as the HTTP equivalent, as SPEC §4 says.
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  const proxy = getProxyForUrl(u.toString());
  return proxy === '' ? undefined : proxy;
}

/** Read and check the TLS files of `t` (client or server side); ask for a passphrase if wanted. */
export async function loadTlsMaterial(
  t: TlsOptions,
  askSecret: AskSecret | undefined,
): Promise<TlsMaterial> {
  const material: TlsMaterial = { rejectUnauthorized: !t.insecure };
  if (t.ca) material.ca = readPem('--ca', t.ca);
  if (t.cert) {
    material.cert = readPem('--cert', t.cert);
    material.key = t.key ? readPem('--key', t.key) : material.cert;
    if (!material.key.includes('PRIVATE KEY-----')) {
      throw usageError(`no private key in '${t.key ?? t.cert}'`, 'give the key with --key <file>');
    }
  }
  if (t.passphrase === 'ask') {
    if (!askSecret) throw usageError('--passphrase without a value needs a terminal');
    material.passphrase = await askSecret(`Passphrase for ${t.key ?? t.cert}`);
  } else if (t.passphrase !== undefined) {
    material.passphrase = t.passphrase;
  }
  if (material.key) {
    // node:crypto is heavy to load; only a run with a client key needs it here.
    const { createPrivateKey } = await import('node:crypto');
    try {
      createPrivateKey({ key: material.key, passphrase: material.passphrase ?? '' });
    } catch {
      throw usageError(
        material.passphrase === undefined
          ? `the key '${t.key ?? t.cert}' is encrypted or unreadable`
          : `cannot decrypt the key '${t.key ?? t.cert}' with that passphrase`,
        material.passphrase === undefined ? 'give its passphrase with --passphrase' : undefined,
      );
    }
  }
  return material;
}

export async function prepareConnect(
  c: ConnectOptions,
  askSecret: AskSecret | undefined,
): Promise<PreparedConnect> {
  const material = await loadTlsMaterial(c.tls, askSecret);
  let auth = c.auth;
  if (auth && auth.pass === undefined) {
    if (!askSecret) throw usageError('--auth without a password needs a terminal');
    auth = { user: auth.user, pass: await askSecret(`Password for ${auth.user}`) };
  }
  const proxyUrl = c.noProxy ? undefined : (c.proxy ?? proxyFromEnv(c.url));
  return { ...c, auth, tlsMaterial: material, proxyUrl };
}

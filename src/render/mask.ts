// Pure: hide secrets in header values before they are shown (-v, /headers).

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** `Basic dXNlcjpwYXNz` → `Basic ****`; cookies keep their names, not their values. */
export function maskHeaderValue(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (!SECRET_HEADERS.has(lower)) return value;
  if (lower === 'cookie' || lower === 'set-cookie') {
    return value.replace(/=([^;]*)/g, '=****');
  }
  const space = value.indexOf(' ');
  return space > 0 ? `${value.slice(0, space)} ****` : '****';
}

/** Passwords in URLs: ws://user:secret@host → ws://user:****@host. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:****@');
}

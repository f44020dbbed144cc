// The one flag table: every option declared once, with its help, group, completion values and
// the modes it is valid in. cli.ts builds commander from it, options.ts refuses a flag outside
// its modes, and the completion scripts are generated from it. Pure data: no imports that cost
// start-up.

export type FlagMode = 'client' | 'listen';

export interface FlagSpec {
  /** commander syntax: '-x, --execute <message>', '--reconnect [n]', '--no-compress'. */
  flags: string;
  help: string;
  /** The --help section it is listed under. */
  group: string;
  /** Where it is accepted; default both. */
  modes?: readonly FlagMode[];
  /** May be given several times (values are collected into an array). */
  repeatable?: boolean;
  /** Completion: the fixed values it takes. */
  choices?: readonly string[];
  /** Completion: the value is a file path. */
  file?: boolean;
}

const CLIENT = ['client'] as const;
const LISTEN = ['listen'] as const;

const G = {
  general: 'General:',
  listen: 'Listen mode:',
  input: 'Input:',
  ending: 'Ending:',
  output: 'Output:',
  connection: 'Connection:',
  tls: 'TLS:',
  bridges: 'Streams and bridges:',
  dialects: 'Dialects:',
  conversation: 'Conversation:',
  views: 'Views:',
} as const;

export const FLAGS: FlagSpec[] = [
  {
    flags: '--completion <shell>',
    help: 'print a completion script for bash, zsh or fish',
    group: G.general,
    choices: ['bash', 'zsh', 'fish'],
  },
  {
    flags: '-c, --connect <url>',
    help: 'the URL to connect to (wscat compatible)',
    group: G.general,
    modes: CLIENT,
  },
  {
    flags: '--demo',
    help: 'start a built-in local server and open the REPL on it',
    group: G.general,
    modes: CLIENT,
  },

  {
    flags: '-l, --listen <port>',
    help: 'run a WebSocket server on this port (0 = a free one)',
    group: G.listen,
    modes: LISTEN,
  },
  {
    flags: '--bind <addr>',
    help: 'listen on this address (default 127.0.0.1)',
    group: G.listen,
    modes: LISTEN,
  },
  {
    flags: '--echo',
    help: 'echo every message back to its sender',
    group: G.listen,
    modes: LISTEN,
  },
  {
    flags: '--broadcast',
    help: 'relay every message to all other clients',
    group: G.listen,
    modes: LISTEN,
  },
  {
    flags: '--once',
    help: 'exit after the first client disconnects',
    group: G.listen,
    modes: LISTEN,
  },
  {
    flags: '--max-backlog <bytes>',
    help: 'close a client whose unsent data passes this with 1008 (default 16M)',
    group: G.listen,
    modes: LISTEN,
  },

  {
    flags: '-x, --execute <message>',
    help: 'send this message, never read stdin (repeatable; listen: to each client)',
    group: G.input,
    repeatable: true,
  },
  {
    flags: '-w, --wait <s>',
    help: 'after the input ends, keep receiving for s seconds; -1 = until the server closes (default 2)',
    group: G.input,
    modes: CLIENT,
  },
  { flags: '-0, --null', help: 'split input on NUL bytes instead of newlines', group: G.input },
  { flags: '--no-split', help: 'send all of stdin as one message', group: G.input },
  { flags: '-b, --binary', help: 'send binary frames instead of text', group: G.input },
  {
    flags: '--replay <file>',
    help: 'send the outgoing messages of a recording, with their original spacing',
    group: G.input,
    modes: CLIENT,
    file: true,
  },
  {
    flags: '--replay-speed <x>',
    help: 'with --replay: 2 = twice as fast, 0 = as fast as possible (default 1)',
    group: G.input,
    modes: CLIENT,
  },
  { flags: '--no-slash', help: 'REPL: no slash commands; every line is sent', group: G.input },
  {
    flags: '--no-history',
    help: 'REPL: do not read or write the history file',
    group: G.input,
  },

  { flags: '--count <n>', help: 'finish after n messages are received', group: G.ending },
  {
    flags: '--expect <regex>',
    help: 'finish when a received text message matches',
    group: G.ending,
  },
  { flags: '--timeout <s>', help: 'deadline for the whole run', group: G.ending },
  {
    flags: '--await-timeout <s>',
    help: 'how long an --await step, or the wait for outstanding responses, may take (default 10)',
    group: G.ending,
  },
  {
    flags: '--reconnect [n]',
    help: 'after a failed connect or an abnormal ending, reconnect (at most n times)',
    group: G.ending,
    modes: CLIENT,
  },
  {
    flags: '--ping-interval <s>',
    help: 'send a keepalive ping every s seconds',
    group: G.ending,
  },
  {
    flags: '--ping-timeout <s>',
    help: 'with --ping-interval: a ping unanswered for s seconds ends the run (exit 1)',
    group: G.ending,
  },

  {
    flags: '--await <regex>',
    help: 'a step: wait for a received message matching this before the next -x (repeatable)',
    group: G.conversation,
    repeatable: true,
  },
  {
    flags: '--reply <"REGEX=>TEMPLATE">',
    help: 'answer a received message that matches with the template (repeatable; the first match answers)',
    group: G.conversation,
    repeatable: true,
  },
  {
    flags: '--heartbeat <"SECONDS:TEMPLATE">',
    help: 'send the template every SECONDS while connected (repeatable)',
    group: G.conversation,
    repeatable: true,
  },
  {
    flags: '--var <NAME=VALUE>',
    help: 'a template variable: {{NAME}} (repeatable)',
    group: G.conversation,
    repeatable: true,
  },
  {
    flags: '--template',
    help: 'fill in {{…}} in typed and piped lines too',
    group: G.conversation,
  },

  {
    flags: '--filter <jq>',
    help: 'show received JSON through a jq program (empty hides a message)',
    group: G.views,
  },
  {
    flags: '--decode <codec>',
    help: 'show received binary messages decoded: gzip, deflate, msgpack, cbor, protobuf',
    group: G.views,
    choices: ['gzip', 'deflate', 'msgpack', 'cbor', 'protobuf'],
  },
  {
    flags: '--decode-raw',
    help: 'raw output: write the decoded JSON instead of the bytes',
    group: G.views,
  },
  {
    flags: '--encode <codec>',
    help: 'send typed, piped and -x JSON as gzip, deflate, msgpack, cbor or protobuf',
    group: G.views,
    choices: ['gzip', 'deflate', 'msgpack', 'cbor', 'protobuf'],
  },
  {
    flags: '--proto <file>',
    help: 'protobuf: the .proto file with the message type',
    group: G.views,
    file: true,
  },
  {
    flags: '--type <message>',
    help: 'protobuf: the message type, e.g. market.Trade',
    group: G.views,
  },

  {
    flags: '--output <format>',
    help: 'pretty, raw or json (default: pretty on a terminal, raw otherwise)',
    group: G.output,
    choices: ['pretty', 'raw', 'json'],
  },
  { flags: '--json', help: 'same as --output json', group: G.output },
  {
    flags: '--no-pretty-json',
    help: 'pretty: keep JSON messages on one line',
    group: G.output,
  },
  { flags: '--hide-ping-pong', help: 'pretty: do not show pings and pongs', group: G.output },
  { flags: '-t, --timestamps', help: 'pretty: prefix lines with the local time', group: G.output },
  {
    flags: '--max-display <bytes>',
    help: 'pretty: cut messages longer than this (default 64K; 0 = all)',
    group: G.output,
  },
  {
    flags: '--binary-as <enc>',
    help: 'raw: write binary messages as hex or base64 lines',
    group: G.output,
    choices: ['hex', 'base64'],
  },
  {
    flags: '--record <file>',
    help: 'append every event to this file as json lines',
    group: G.output,
    file: true,
  },
  { flags: '-q, --quiet', help: 'only errors besides the payloads', group: G.output },
  { flags: '-v, --verbose', help: 'handshake details on stderr', group: G.output },
  { flags: '--color', help: 'force colour', group: G.output },
  { flags: '--no-color', help: 'no colour', group: G.output },

  {
    flags: '-H, --header <"Name: value">',
    help: 'add a handshake header (repeatable)',
    group: G.connection,
    modes: CLIENT,
    repeatable: true,
  },
  {
    flags: '-s, --subprotocol <name>',
    help: 'offer a subprotocol (repeatable; listen: accept only these)',
    group: G.connection,
    repeatable: true,
  },
  { flags: '-o, --origin <origin>', help: 'Origin header', group: G.connection, modes: CLIENT },
  { flags: '--host <host>', help: 'Host header', group: G.connection, modes: CLIENT },
  {
    flags: '--auth <user[:pass]>',
    help: 'HTTP Basic auth (asks for the password on a terminal)',
    group: G.connection,
    modes: CLIENT,
  },
  {
    flags: '-p, --protocol-version <8|13>',
    help: 'WebSocket protocol version (default 13)',
    group: G.connection,
    modes: CLIENT,
    choices: ['8', '13'],
  },
  { flags: '--no-compress', help: 'do not offer permessage-deflate', group: G.connection },
  {
    flags: '--http2',
    help: 'WebSocket over HTTP/2 (RFC 8441), else HTTP/1.1; listen: serve both',
    group: G.connection,
  },
  {
    flags: '--http2-only',
    help: 'like --http2, but fail when the server does not offer it',
    group: G.connection,
    modes: CLIENT,
  },
  {
    flags: '--max-message-size <bytes>',
    help: 'largest incoming message (default 100M)',
    group: G.connection,
  },
  {
    flags: '--handshake-timeout <s>',
    help: 'deadline for the opening handshake (default 10)',
    group: G.connection,
    modes: CLIENT,
  },
  { flags: '-L, --location', help: 'follow redirects', group: G.connection, modes: CLIENT },
  {
    flags: '--max-redirects <n>',
    help: 'with -L: at most n hops (default 10)',
    group: G.connection,
    modes: CLIENT,
  },
  {
    flags: '--proxy <url>',
    help: 'http://, https://, socks4://, socks5://, socks5h:// proxy (user:pass@ allowed)',
    group: G.connection,
    modes: CLIENT,
  },
  {
    flags: '--no-proxy',
    help: 'ignore HTTPS_PROXY, HTTP_PROXY, ALL_PROXY',
    group: G.connection,
    modes: CLIENT,
  },

  {
    flags: '--ca <file>',
    help: 'trust this CA certificate (PEM)',
    group: G.tls,
    modes: CLIENT,
    file: true,
  },
  {
    flags: '--cert <file>',
    help: 'client certificate (PEM); listen: the server certificate',
    group: G.tls,
    file: true,
  },
  {
    flags: '--key <file>',
    help: 'private key of --cert (PEM)',
    group: G.tls,
    file: true,
  },
  {
    flags: '--passphrase [pass]',
    help: 'passphrase of the key (asked for, hidden, without a value)',
    group: G.tls,
  },
  {
    flags: '-k, --insecure',
    help: 'do not verify the server certificate',
    group: G.tls,
    modes: CLIENT,
  },
  { flags: '-n, --no-check', help: 'same as -k (wscat compatible)', group: G.tls, modes: CLIENT },

  // Streams and bridges (SPEC §13): src/bridge/
  {
    flags: '--stream',
    help: 'bytes, not lines: stdin → binary messages, received bytes → stdout (ssh ProxyCommand)',
    group: G.bridges,
  },
  {
    flags: '--tcp-listen <[host:]port>',
    help: 'local port forward: every TCP connection to this port gets its own WebSocket',
    group: G.bridges,
    modes: CLIENT,
  },
  {
    flags: '--to <target>',
    help: 'listen: carry each client to tcp:HOST:PORT or unix:PATH (websockify)',
    group: G.bridges,
    modes: LISTEN,
  },
  {
    flags: '--exec <command>',
    help: "a program's stdin/stdout ⇄ the WebSocket, lines ↔ messages (listen: one per client, websocketd)",
    group: G.bridges,
  },

  {
    flags: '--dialect <name>',
    help: 'speak an application protocol: socketio, graphql, jsonrpc, cdp, stomp, mqtt, none',
    group: G.dialects,
    modes: CLIENT,
    choices: ['socketio', 'graphql', 'jsonrpc', 'cdp', 'stomp', 'mqtt', 'none'],
  },
  {
    flags: '--init <json>',
    help: "the payload of the dialect's opening message (Socket.IO auth, connection_init)",
    group: G.dialects,
    modes: CLIENT,
  },
  {
    flags: '--socketio-version <2|4>',
    help: 'Socket.IO 4 (and 3) or 2: Engine.IO 4 or 3 (default 4)',
    group: G.dialects,
    modes: CLIENT,
    choices: ['2', '4'],
  },
  {
    flags: '--socketio-path <path>',
    help: 'the Socket.IO endpoint path (default /socket.io/)',
    group: G.dialects,
    modes: CLIENT,
  },
  {
    flags: '--variables <json>',
    help: 'GraphQL variables for every operation (a JSON object)',
    group: G.dialects,
    modes: CLIENT,
  },
  {
    flags: '--target <target>',
    help: 'CDP: attach to the first target of this type (page), id or URL part, from /json/list',
    group: G.dialects,
    modes: CLIENT,
  },
  {
    flags: '--events',
    help: 'CDP raw output: print events too, not only results',
    group: G.dialects,
    modes: CLIENT,
  },
  {
    flags: '--sub <destination>',
    help: 'stomp/mqtt: subscribe to this destination or topic at start (repeatable)',
    group: G.dialects,
    modes: CLIENT,
    repeatable: true,
  },
  {
    flags: '--pub <destination>',
    help: 'stomp/mqtt: send typed and piped lines to this destination or topic',
    group: G.dialects,
    modes: CLIENT,
  },
  {
    flags: '--qos <0|1|2>',
    help: 'mqtt: QoS of --sub and --pub (default 0)',
    group: G.dialects,
    modes: CLIENT,
    choices: ['0', '1', '2'],
  },
  {
    flags: '--vhost <host>',
    help: "stomp: the CONNECT host header, RabbitMQ's vhost (default the URL's host name)",
    group: G.dialects,
    modes: CLIENT,
  },
  {
    flags: '--client-id <id>',
    help: 'mqtt: the client identifier (default wsx- and random characters)',
    group: G.dialects,
    modes: CLIENT,
  },
  {
    flags: '--keepalive <s>',
    help: 'mqtt: keep-alive; PINGREQ every s seconds, an unanswered one ends the run (default 60)',
    group: G.dialects,
    modes: CLIENT,
  },
  {
    flags: '--mqtt-version <v>',
    help: 'mqtt: protocol version 3.1.1 or 5 (default 3.1.1)',
    group: G.dialects,
    modes: CLIENT,
    choices: ['3.1.1', '5'],
  },
];

/** `--reconnect [n]` → { short: '-r'?, long: '--reconnect', key: 'reconnect', negate, value }. */
export interface FlagName {
  short: string | undefined;
  long: string;
  /** The RawFlags / commander attribute name. */
  key: string;
  /** A `--no-x` flag (its value is false when given). */
  negate: boolean;
  value: 'none' | 'required' | 'optional';
}

export function flagName(spec: FlagSpec): FlagName {
  const m = /^(?:(-\w), )?(--[\w-]+)(?: ([<[]).*)?$/.exec(spec.flags);
  if (!m?.[2]) throw new Error(`bad flag spec '${spec.flags}'`);
  const long = m[2];
  const negate = long.startsWith('--no-');
  const bare = negate ? long.slice(5) : long.slice(2);
  const key = bare.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  return {
    short: m[1],
    long,
    key,
    negate,
    value: m[3] === '<' ? 'required' : m[3] === '[' ? 'optional' : 'none',
  };
}

/**
 * The flags given on the command line that are not valid in `mode`, as the user spelt them
 * (`-H`, `--reconnect`). `given` holds commander's values; a `--no-x` flag counts as given only
 * when its value is false, since commander defaults it to true.
 */
export function flagsOutsideMode(
  given: Readonly<Record<string, unknown>>,
  mode: FlagMode,
): string[] {
  const out: string[] = [];
  for (const spec of FLAGS) {
    if (!spec.modes || spec.modes.includes(mode)) continue;
    const n = flagName(spec);
    const v = given[n.key];
    const present = n.negate ? v === false : v !== undefined && v !== false;
    // --proxy <url> and --no-proxy share a key: a string is --proxy, false is --no-proxy.
    if (n.key === 'proxy' && (n.negate ? v !== false : typeof v !== 'string')) continue;
    if (present) out.push(n.short ?? n.long);
  }
  return [...new Set(out)];
}

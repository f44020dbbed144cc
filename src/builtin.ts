// A Node builtin loaded on first use rather than when the bundle starts (an `import` would be
// hoisted to the top of the bundle). process.getBuiltinModule (Node >= 20.16) costs nothing;
// older Node has the bundle's own require. Not node:module's createRequire: loading node:module
// pulls in the ESM loader, about 1 ms of every start-up (issue 10).

declare const require: ((id: string) => unknown) | undefined;

type GetBuiltin = (id: string) => unknown;

export function builtin<T>(id: string): T {
  const get = (process as { getBuiltinModule?: GetBuiltin }).getBuiltinModule;
  if (get) return get(id) as T;
  if (typeof require === 'function') return require(id) as T;
  throw new Error(`cannot load ${id}`);
}

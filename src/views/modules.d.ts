// Types for the view libraries that ship none for the entry points wsx uses.

declare module 'cbor-x/index-no-eval' {
  // The same API as cbor-x, built without eval() and without the optional native extractor.
  export * from 'cbor-x';
}

declare module 'jq-web' {
  interface JqError extends Error {
    stderr?: string;
    exitCode?: number;
  }
  interface JqWeb {
    /** Run jq on `input` (JSON text) with `flags`; stdout, or undefined when jq printed nothing. */
    raw(input: string, filter: string, flags?: string[]): string | undefined;
    json(input: unknown, filter: string): unknown;
  }
  const jq: Promise<JqWeb>;
  export default jq;
  export type { JqError, JqWeb };
}

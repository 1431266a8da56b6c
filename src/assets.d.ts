// Files imported `with { type: 'file' | 'text' }`: Bun hands back a path or the text.
declare module '*.sql' {
  const text: string;
  export default text;
}
declare module '@electric-sql/pglite/pglite.wasm' {
  const path: string;
  export default path;
}
declare module '@electric-sql/pglite/initdb.wasm' {
  const path: string;
  export default path;
}
declare module '@electric-sql/pglite/pglite.data' {
  const path: string;
  export default path;
}
declare module '@scalar/api-reference/browser/standalone.js' {
  const path: string;
  export default path;
}
// prom-client's own files, typed by src/observability/prom.ts from the package's index types.
declare module 'prom-client/lib/*' {
  const value: unknown;
  export default value;
}

// Modules that vite.config.ts generates at build time.

declare module "virtual:highlight-aliases" {
  /** A language's other names, lowercased, mapped to the name of its highlight.js grammar file. */
  const aliases: Record<string, string>;
  export default aliases;
}

import { createRequire } from "node:module";
import { reactRouter } from "@react-router/dev/vite";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig, type Plugin } from "vite";

const HIGHLIGHT_ALIASES = "virtual:highlight-aliases";

/**
 * `virtual:highlight-aliases`: every name highlight.js knows a language by
 * ("ts", "rs", "yml"…), mapped to its grammar's file name. The page fetches a
 * grammar only when an answer uses it, so it needs this map to know which.
 */
export function highlightAliases(): Plugin {
  return {
    name: "highlight-aliases",
    resolveId: (source) => (source === HIGHLIGHT_ALIASES ? `\0${HIGHLIGHT_ALIASES}` : undefined),
    load(id) {
      if (id !== `\0${HIGHLIGHT_ALIASES}`) return undefined;
      const hljs = createRequire(import.meta.url)("highlight.js") as typeof import("highlight.js").default;
      const aliases: Record<string, string> = {};
      for (const name of hljs.listLanguages())
        for (const alias of hljs.getLanguage(name)?.aliases ?? []) aliases[alias.toLowerCase()] ??= name;
      return `export default ${JSON.stringify(aliases)};`;
    },
  };
}

/**
 * In the browser, the AI SDK's provider-utils only checks data against zod
 * schemas; it never turns a schema into JSON Schema (that is for sending tools
 * to a model, which happens on the server). Its converters would still pull in
 * all of zod 3 (for one enum) and zod 4's JSON Schema code, about a quarter of
 * the chat page's script. So the browser build gets these two in their place.
 */
function browserZodForProviderUtils(): Plugin {
  const shims: Record<string, string> = {
    // zod 3's type kinds are a string enum whose values are their names; only zod 3 schemas carry them.
    "zod/v3": "export const ZodFirstPartyTypeKind = new Proxy({}, { get: (_target, name) => name });",
    "zod/v4": [
      'export * from "zod/v4";',
      "export function toJSONSchema() {",
      '  throw new Error("JSON Schema conversion is left out of the browser build (vite.config.ts)");',
      "}",
    ].join("\n"),
  };
  return {
    name: "browser-zod-for-provider-utils",
    enforce: "pre",
    applyToEnvironment: (environment) => environment.name === "client",
    resolveId(source, importer) {
      if (!(source in shims) || !importer?.includes("/@ai-sdk/provider-utils/")) return undefined;
      return `\0browser-${source}`;
    },
    load(id) {
      return id.startsWith("\0browser-zod/") ? shims[id.slice("\0browser-".length)] : undefined;
    },
  };
}

export default defineConfig({
  plugins: [tailwindcss(), reactRouter(), highlightAliases(), browserZodForProviderUtils()],
  resolve: { tsconfigPaths: true },
  // Pre-bundled up front so the first visit to a chat does not trigger a dev reload. The dependency
  // scan also reaches server-only packages through route modules' loaders, so they are listed too.
  optimizeDeps: {
    include: [
      "@ai-sdk/react",
      "@trigger.dev/sdk/chat/react",
      "@trigger.dev/sdk",
      "@trigger.dev/sdk/ai",
      "@trigger.dev/core/v3",
      "@trigger.dev/core/v3/jwt",
      "marked",
      "remark-gfm",
      "remark-parse",
      "unified",
      "lowlight",
      "zod",
    ],
  },
  // The engine bundles agent workers with esbuild at runtime; keep it out of the SSR bundle.
  ssr: { external: ["esbuild"] },
});

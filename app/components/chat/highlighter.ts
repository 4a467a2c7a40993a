import type { LanguageFn } from "highlight.js";
import { toJsxRuntime } from "hast-util-to-jsx-runtime";
import { common, createLowlight } from "lowlight";
import { Fragment, jsx, jsxs } from "react/jsx-runtime";

// The common languages come with the highlighter; the other grammars are a chunk each, fetched when an answer uses one.
const lowlight = createLowlight(common);
const grammars = import.meta.glob<LanguageFn>(["/node_modules/highlight.js/es/languages/*.js", "!**/*.js.js"], { import: "default" });
const grammarFile = (name: string) => `/node_modules/highlight.js/es/languages/${name}.js`;
/** Common short names of languages outside the common set, which only their grammar would otherwise tell. */
const ALIASES: Record<string, string> = {
  clj: "clojure",
  docker: "dockerfile",
  ex: "elixir",
  exs: "elixir",
  erl: "erlang",
  fs: "fsharp",
  hs: "haskell",
  jl: "julia",
  kt: "kotlin",
  ml: "ocaml",
  ps: "powershell",
  ps1: "powershell",
  pwsh: "powershell",
  rb: "ruby",
  sc: "scala",
  tex: "latex",
};

async function ensureLanguage(language: string): Promise<string | undefined> {
  const name = language.toLowerCase();
  if (lowlight.registered(name)) return name;
  const file = grammarFile(ALIASES[name] ?? name);
  const load = grammars[file];
  if (!load) return undefined;
  lowlight.register(ALIASES[name] ?? name, await load());
  return lowlight.registered(name) ? name : ALIASES[name];
}

export async function highlight(code: string, language: string) {
  const name = await ensureLanguage(language);
  if (!name) return undefined;
  return toJsxRuntime(lowlight.highlight(name, code), { Fragment, jsx, jsxs });
}

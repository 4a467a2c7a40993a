import type { LanguageFn } from "highlight.js";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { createLowlight } from "lowlight";
import { createElement, Fragment, type ReactNode } from "react";

// The languages answers use most come with the highlighter; every other grammar is a chunk of its own,
// fetched when an answer uses it, so the page never downloads grammars it does not show.
const lowlight = createLowlight({ bash, css, javascript, json, python, typescript, xml, yaml });
const grammars = import.meta.glob<LanguageFn>(["/node_modules/highlight.js/es/languages/*.js", "!**/*.js.js"], { import: "default" });
const grammarFile = (name: string) => `/node_modules/highlight.js/es/languages/${name}.js`;

/** Common short names of languages that come on demand, which only their grammar would otherwise tell. */
const ALIASES: Record<string, string> = {
  "c++": "cpp",
  "c#": "csharp",
  cc: "cpp",
  clj: "clojure",
  console: "shell",
  cs: "csharp",
  docker: "dockerfile",
  erl: "erlang",
  ex: "elixir",
  exs: "elixir",
  fs: "fsharp",
  golang: "go",
  gql: "graphql",
  h: "c",
  hpp: "cpp",
  hs: "haskell",
  jl: "julia",
  kt: "kotlin",
  md: "markdown",
  mk: "makefile",
  ml: "ocaml",
  objc: "objectivec",
  patch: "diff",
  php3: "php",
  pl: "perl",
  ps: "powershell",
  ps1: "powershell",
  pwsh: "powershell",
  rb: "ruby",
  rs: "rust",
  sc: "scala",
  shellsession: "shell",
  tex: "latex",
  toml: "ini",
  vb: "vbnet",
};

async function ensureLanguage(language: string): Promise<string | undefined> {
  const name = language.toLowerCase();
  if (lowlight.registered(name)) return name;
  const grammar = ALIASES[name] ?? name;
  const load = grammars[grammarFile(grammar)];
  if (!load) return undefined;
  lowlight.register(grammar, await load());
  return lowlight.registered(name) ? name : grammar;
}

/** Highlighted code as React elements, or undefined for a language the highlighter has no grammar for. */
export async function highlight(code: string, language: string): Promise<ReactNode | undefined> {
  const name = await ensureLanguage(language);
  if (!name) return undefined;
  return toReact(lowlight.highlight(name, code));
}

type HighlightNode = ReturnType<typeof lowlight.highlight> | ReturnType<typeof lowlight.highlight>["children"][number];

// lowlight's trees hold only spans with classes and text, so this is all a general hast-to-JSX converter would do here.
function toReact(node: HighlightNode, key?: number): ReactNode {
  if (node.type === "text") return node.value;
  if (node.type === "root") return createElement(Fragment, null, ...node.children.map(toReact));
  if (node.type !== "element") return null;
  const className = node.properties.className;
  return createElement(
    node.tagName,
    { key, className: Array.isArray(className) ? className.join(" ") : undefined },
    ...node.children.map(toReact),
  );
}

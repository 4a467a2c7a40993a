import type { LanguageFn } from "highlight.js";
import { createLowlight } from "lowlight";

type GrammarModule = { default: LanguageFn };

// The languages answers use most, fetched straight away when an answer uses them. Every other grammar is
// found through an index of all of them, which only a rarer language fetches. Either way a grammar is a
// chunk of its own: the page never downloads grammars it does not show.
export const COMMON_GRAMMARS: Record<string, () => Promise<GrammarModule>> = {
  bash: () => import("highlight.js/lib/languages/bash"),
  css: () => import("highlight.js/lib/languages/css"),
  javascript: () => import("highlight.js/lib/languages/javascript"),
  json: () => import("highlight.js/lib/languages/json"),
  python: () => import("highlight.js/lib/languages/python"),
  typescript: () => import("highlight.js/lib/languages/typescript"),
  xml: () => import("highlight.js/lib/languages/xml"),
  yaml: () => import("highlight.js/lib/languages/yaml"),
};

/** The common grammars' aliases, as highlight.js defines them (a test keeps the two in step). */
export const COMMON_ALIASES: Record<string, string> = {
  sh: "bash",
  zsh: "bash",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsonc: "json",
  json5: "json",
  py: "python",
  gyp: "python",
  ipython: "python",
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  html: "xml",
  xhtml: "xml",
  rss: "xml",
  atom: "xml",
  xjb: "xml",
  xsd: "xml",
  xsl: "xml",
  plist: "xml",
  wsf: "xml",
  svg: "xml",
  yml: "yaml",
};

const lowlight = createLowlight();

async function findGrammar(language: string): Promise<{ name: string; grammar: LanguageFn } | undefined> {
  const common = Object.hasOwn(COMMON_ALIASES, language) ? COMMON_ALIASES[language]! : language;
  if (Object.hasOwn(COMMON_GRAMMARS, common))
    return { name: common, grammar: (await COMMON_GRAMMARS[common]!()).default };
  return (await import("./grammar-index")).findGrammar(language);
}

async function ensureLanguage(language: string): Promise<string | undefined> {
  const name = language.toLowerCase();
  if (lowlight.registered(name)) return name;
  const found = await findGrammar(name);
  if (!found) return undefined;
  lowlight.register(found.name, found.grammar);
  return lowlight.registered(name) ? name : found.name;
}

/**
 * Highlighted code as HTML, or undefined for a language the highlighter has no grammar for. Safe to
 * put in the page as it is: the code is text in it, escaped, and the only elements are spans whose
 * classes come from the grammar.
 */
export async function highlight(code: string, language: string): Promise<string | undefined> {
  const name = await ensureLanguage(language);
  if (!name) return undefined;
  return toHtml(lowlight.highlight(name, code));
}

type HighlightNode = ReturnType<typeof lowlight.highlight> | ReturnType<typeof lowlight.highlight>["children"][number];

const escapeHtml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

// lowlight's trees hold only spans with classes and text, so this is all a general hast-to-HTML converter would do here.
function toHtml(node: HighlightNode): string {
  if (node.type === "text") return escapeHtml(node.value);
  if (node.type === "root") return node.children.map(toHtml).join("");
  if (node.type !== "element") return "";
  const className = node.properties.className;
  const classes = Array.isArray(className) ? ` class="${escapeHtml(className.join(" "))}"` : "";
  return `<${node.tagName}${classes}>${node.children.map(toHtml).join("")}</${node.tagName}>`;
}

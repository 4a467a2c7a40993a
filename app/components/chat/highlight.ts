import { createContext } from "react";

/** Highlighted code, as the highlighter's HTML: spans with highlight.js classes around the escaped code. */
export type HighlightedCode = string;

let highlighter: Promise<typeof import("./highlighter")> | undefined;

/**
 * Highlights code once the highlighter has loaded: it is fetched on first use,
 * so pages without code never download it. Undefined for a language it does
 * not know, or when it cannot load (the code then stays plain).
 */
export async function highlightCode(code: string, language: string | undefined): Promise<HighlightedCode | undefined> {
  if (!language) return undefined;
  highlighter ??= import("./highlighter");
  try {
    return await (await highlighter).highlight(code, language);
  } catch {
    // A failed chunk load (offline, a deploy replaced it): plain code is still correct, and a later call tries again.
    highlighter = undefined;
    return undefined;
  }
}

/**
 * Code blocks the server highlighted for the page it rendered, as the
 * highlighter's HTML by `codeKey`: a reopened chat shows its code in colour at
 * once, and fetches the highlighter only for answers written after that.
 */
export const ServerHighlightedCode = createContext<Readonly<Record<string, string>>>({});

/** Names a code block by its language and text (FNV-1a, twice over, with the length): the same on server and client. */
export function codeKey(language: string, code: string): string {
  let first = 0x811c9dc5;
  let second = 0x01000193;
  for (let index = 0; index < code.length; index++) {
    const unit = code.charCodeAt(index);
    first = Math.imul(first ^ unit, 0x01000193);
    second = Math.imul(second ^ unit, 0x5bd1e995);
  }
  return `${language}:${code.length}:${(first >>> 0).toString(36)}${(second >>> 0).toString(36)}`;
}

import type { ReactNode } from "react";

/** Highlighted code, as React elements. */
export type HighlightedCode = ReactNode;

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

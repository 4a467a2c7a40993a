import { Lexer, type Token } from "marked";
import { codeKey } from "~/components/chat/highlight";
import { highlight } from "~/components/chat/highlighter";
import type { ChatUIMessage } from "../../trigger/chat";

/** Bounds the work one page load may ask for; blocks past it are highlighted in the browser, as new ones are. */
const MAX_BLOCKS = 200;
const MAX_CODE_CHARS = 256 * 1024;

/**
 * Highlights the fenced code in the answers a page is rendered with, keyed as
 * the page's code blocks look them up (`codeKey`): the page then needs no
 * highlighter to show saved answers in colour.
 */
export async function highlightAnswerCode(messages: readonly ChatUIMessage[]): Promise<Record<string, string>> {
  const highlighted: Record<string, string> = {};
  let blocks = 0;
  let chars = 0;
  for (const message of messages) {
    if (message.role !== "assistant") continue;
    for (const part of message.parts) {
      if (part.type !== "text" || (!part.text.includes("```") && !part.text.includes("~~~"))) continue;
      for (const { language, code } of codeBlocks(Lexer.lex(part.text))) {
        const key = codeKey(language, code);
        if (key in highlighted) continue;
        if (++blocks > MAX_BLOCKS || (chars += code.length) > MAX_CODE_CHARS) return highlighted;
        const html = await highlight(code, language);
        if (html !== undefined) highlighted[key] = html;
      }
    }
  }
  return highlighted;
}

/** Fenced code with a language, wherever it sits (lists, quotes), as the page's renderer reads it. */
function* codeBlocks(tokens: readonly Token[]): Generator<{ language: string; code: string }> {
  for (const token of tokens) {
    if (token.type === "code") {
      const language = (token.lang as string | undefined)?.match(/^\S+/)?.[0];
      if (language) yield { language, code: token.text as string };
    }
    if ("tokens" in token && token.tokens) yield* codeBlocks(token.tokens);
    if (token.type === "list") for (const item of token.items as Token[]) yield* codeBlocks([item]);
  }
}

import type { LanguageFn } from "highlight.js";
import aliases from "virtual:highlight-aliases";

// Every grammar highlight.js has, each a chunk of its own. This index (a line per grammar, with its
// chunk's name) is itself fetched only when an answer uses a language the highlighter does not know.
const grammars = import.meta.glob<LanguageFn>(["/node_modules/highlight.js/es/languages/*.js", "!**/*.js.js"], {
  import: "default",
});

/** The grammar for a language name or any of its aliases, with the grammar's own name; undefined when there is none. */
export async function findGrammar(language: string): Promise<{ name: string; grammar: LanguageFn } | undefined> {
  const name = Object.hasOwn(aliases, language) ? aliases[language]! : language;
  const load = grammars[`/node_modules/highlight.js/es/languages/${name}.js`];
  return load && { name, grammar: await load() };
}

import { Lexer, type Links, type MarkedToken, type Token, type TokensList } from "marked";

/** A markdown text cut into its top-level blocks (paragraphs, lists, tables, code fences…), in order. */
export type MarkdownBlocks = {
  text: string;
  /** Each block's own source, whitespace after it included: joined, they are `text`. */
  blocks: string[];
  /** The link reference definitions (`[label]: url`) each block holds. */
  definitions: Links[];
  /**
   * Every definition in the text, the first of a label winning, for blocks that use a
   * label defined in another. The same object while the definitions do not change.
   */
  links: Links;
};

/**
 * How many blocks at the end of a streamed text may still change. The last one
 * grows; the ones before it can still absorb it: "1. a" then "2" is a list and a
 * paragraph, until a "." turns the paragraph into the list's second item. marked
 * reaches one further back: it reads "Text\n2. b\n-" as a paragraph and two
 * lists, then "Text\n2. b\n- c" as a paragraph and one list.
 * Anything before those three is settled.
 */
const UNSETTLED_BLOCKS = 3;

/**
 * Cuts `text` into top-level blocks. Given the blocks of an earlier text that
 * `text` extends (a streamed answer), only the unsettled blocks at its end are
 * parsed again, so the cost of an update is the size of the tail, not of the
 * whole answer.
 */
export function splitMarkdownBlocks(text: string, previous?: MarkdownBlocks): MarkdownBlocks {
  let settled: string[] = [];
  let settledDefinitions: Links[] = [];
  let offset = 0;
  if (previous && text.startsWith(previous.text)) {
    settled = previous.blocks.slice(0, -UNSETTLED_BLOCKS);
    settledDefinitions = previous.definitions.slice(0, settled.length);
    offset = settled.reduce((length, block) => length + block.length, 0);
  }
  const tail = blocksOf(text.slice(offset));
  const definitions = [...settledDefinitions, ...tail.definitions];
  const links = mergeDefinitions(definitions);
  return {
    text,
    blocks: [...settled, ...tail.blocks],
    definitions,
    // Blocks re-render when `links` changes, so keep the old object while it says the same.
    links: previous && sameLinks(previous.links, links) ? previous.links : links,
  };
}

/** A block's tokens, inline ones included, resolving reference links with `links` (from the whole text). */
export function lexBlock(source: string, links: Links): TokensList {
  const lexer = new Lexer();
  Object.assign(lexer.tokens.links, links);
  return lexer.lex(source);
}

/** The constructs answers use most, for {@link warmUpMarkdownParser}. */
const WARM_UP_TEXT = [
  "# A heading",
  "A paragraph with **bold**, *emphasis*, `code`, ~~a strike~~, a [link](https://example.com/) and https://example.com/.",
  "- an item\n- another\n  1. nested",
  "> a quote",
  "```ts\nconst answer = 42;\n```",
  "| a | b |\n| --- | --- |\n| 1 | 2 |",
].join("\n\n");

/**
 * Parses a sample once, so that an answer's first words are not the first text
 * the parser reads: that first run compiles marked's regular expressions and
 * code, which held a new chat's first words back by about 15 ms.
 */
export function warmUpMarkdownParser() {
  const { blocks, links } = splitMarkdownBlocks(WARM_UP_TEXT);
  for (const block of blocks) lexBlock(block, links);
}

function blocksOf(source: string): { blocks: string[]; definitions: Links[] } {
  if (source === "") return { blocks: [], definitions: [] };
  // marked reads "\r\n" and "\r" as "\n" (as lex() does); the cut is made on that reading and mapped back.
  const normalized = source.replace(/\r\n?/g, "\n");
  // Block tokens only: splitting needs no inline parsing, the renderer does that per block.
  const tokens = new Lexer().blockTokens(normalized);
  const starts: number[] = [];
  const definitions: Links[] = [];
  let offset = 0;
  let blankSoFar = true;
  for (const token of tokens) {
    // Blank lines belong to the block before them; leading ones to the first block.
    const startsBlock = starts.length === 0 || (token.type !== "space" && !blankSoFar);
    if (token.type !== "space") blankSoFar = false;
    if (startsBlock) {
      starts.push(offset);
      definitions.push(Object.create(null) as Links);
    }
    collectDefinitions(token, definitions.at(-1)!);
    offset += token.raw.length;
  }
  if (starts.length === 0) return { blocks: [source], definitions: [Object.create(null) as Links] };
  const cuts = normalized === source ? starts : sourceOffsets(source, starts);
  return { blocks: cuts.map((start, index) => source.slice(start, cuts[index + 1] ?? source.length)), definitions };
}

/** Definitions can sit in a list item or a quote as well as at the top level. */
function collectDefinitions(blockToken: Token, into: Links) {
  const token = blockToken as MarkedToken;
  if (token.type === "def") into[token.tag] ??= { href: token.href, title: token.title };
  else if (token.type === "list") for (const item of token.items) collectDefinitions(item, into);
  else if (token.type === "list_item" || token.type === "blockquote")
    for (const child of token.tokens) collectDefinitions(child, into);
}

function mergeDefinitions(definitions: Links[]): Links {
  const links = Object.create(null) as Links;
  for (const block of definitions) for (const label in block) links[label] ??= block[label]!;
  return links;
}

function sameLinks(a: Links, b: Links): boolean {
  const labels = Object.keys(a);
  return (
    labels.length === Object.keys(b).length &&
    labels.every((label) => b[label]?.href === a[label]!.href && b[label]?.title === a[label]!.title)
  );
}

/** Where ascending offsets in `source` with its line endings made "\n" fall in `source` itself. */
function sourceOffsets(source: string, normalizedOffsets: number[]): number[] {
  let index = 0;
  let count = 0;
  return normalizedOffsets.map((offset) => {
    for (; count < offset; count++) index += source.startsWith("\r\n", index) ? 2 : 1;
    return index;
  });
}

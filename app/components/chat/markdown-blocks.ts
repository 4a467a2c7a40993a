import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import { unified } from "unified";

/** A markdown text cut into its top-level blocks (paragraphs, lists, tables, code fences…), in order. */
export type MarkdownBlocks = {
  text: string;
  /** Each block's own source, whitespace after it included: joined, they are `text`. */
  blocks: string[];
};

const parser = unified().use(remarkParse).use(remarkGfm);

/**
 * How many blocks at the end of a streamed text may still change. The last one
 * grows; the one before it can still absorb it: "1. a" then "2" is a list and a
 * paragraph, until a "." turns the paragraph into the list's second item.
 * Anything before those two is settled.
 */
const UNSETTLED_BLOCKS = 2;

/**
 * Cuts `text` into top-level blocks. Given the blocks of an earlier text that
 * `text` extends (a streamed answer), only the unsettled blocks at its end are
 * parsed again, so the cost of an update is the size of the tail, not of the
 * whole answer.
 */
export function splitMarkdownBlocks(text: string, previous?: MarkdownBlocks): MarkdownBlocks {
  let settled: string[] = [];
  let offset = 0;
  if (previous && text.startsWith(previous.text)) {
    settled = previous.blocks.slice(0, -UNSETTLED_BLOCKS);
    offset = settled.reduce((length, block) => length + block.length, 0);
  }
  return { text, blocks: [...settled, ...blocksOf(text.slice(offset))] };
}

function blocksOf(source: string): string[] {
  if (source === "") return [];
  // Each block runs from the start of the line it begins on (its indentation belongs to it) to where the next begins.
  const starts = parser
    .parse(source)
    .children.map((node) => lineStart(source, node.position?.start.offset ?? 0))
    .filter((start, index, all) => index === 0 || start > all[index - 1]!);
  if (starts.length === 0) return [source];
  starts[0] = 0;
  return starts.map((start, index) => source.slice(start, starts[index + 1] ?? source.length));
}

function lineStart(source: string, offset: number): number {
  return source.lastIndexOf("\n", offset - 1) + 1;
}

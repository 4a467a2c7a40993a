import fc from "fast-check";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { splitMarkdownBlocks, type MarkdownBlocks } from "./markdown-blocks";

// Records how much text each parse is given, to prove a streamed update parses only the tail.
const parsed = vi.hoisted(() => ({ lengths: [] as number[] }));
vi.mock("unified", async (importOriginal) => {
  const actual = await importOriginal<typeof import("unified")>();
  return {
    ...actual,
    unified: () => {
      const processor = actual.unified();
      const parse = processor.parse.bind(processor);
      processor.parse = ((file) => {
        parsed.lengths.push(String(file).length);
        return parse(file);
      }) as typeof processor.parse;
      return processor;
    },
  };
});

beforeEach(() => {
  parsed.lengths = [];
});

// Left out, as rare in answers and parsed by micromark with context a tail cannot see: indented code (after
// it "2. x" is a paragraph, where CommonMark sees a list) and link definitions (the lines after one read
// as a paragraph). Streamed, such a block can settle as its tail parse read it.
const BLOCKS = [
  "## A heading",
  "A paragraph with **bold**, `code` and a [link](https://example.com).",
  "- one\n- two\n  - nested",
  "1. first\n\n2. second, loose",
  "```ts\nconst x = 1;\n\nconsole.log(x);\n```",
  "| a | b |\n| --- | --- |\n| 1 | 2 |",
  "> a quote\ncontinued lazily",
  "Setext title\n===",
  "---",
  "<div>raw html</div>",
  "- a\n- b",
  "2. continues?",
  "-",
  "***",
  "   - indented item",
  "Term with trailing spaces  \nand a hard break",
  "```\nan unclosed fence",
];

/** Streams `text` in pieces of the given sizes, splitting after each as the Markdown component does. */
function streamed(text: string, sizes: number[]): MarkdownBlocks[] {
  const results: MarkdownBlocks[] = [];
  let previous: MarkdownBlocks | undefined;
  let end = 0;
  for (let index = 0; end < text.length; index++) {
    end = Math.min(text.length, end + (sizes[index % sizes.length] ?? 1));
    previous = splitMarkdownBlocks(text.slice(0, end), previous);
    results.push(previous);
  }
  return results;
}

describe("splitMarkdownBlocks", () => {
  it("cuts a text into its top-level blocks, which join back into the text", () => {
    const text = [...BLOCKS.slice(0, -1), "    indented code"].join("\n\n");
    const { blocks } = splitMarkdownBlocks(text);
    expect(blocks.join("")).toBe(text);
    expect(blocks).toHaveLength(BLOCKS.length);
    expect(blocks[4]).toBe("```ts\nconst x = 1;\n\nconsole.log(x);\n```\n\n");
  });

  it("keeps leading blank lines and indentation with the block they precede", () => {
    expect(splitMarkdownBlocks("\n\n  Indented paragraph\n\nNext").blocks).toEqual(["\n\n  Indented paragraph\n\n", "Next"]);
    expect(splitMarkdownBlocks("").blocks).toEqual([]);
    expect(splitMarkdownBlocks("   \n").blocks).toEqual(["   \n"]);
  });

  it("gives the same blocks streamed piece by piece as parsed whole, at every step", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...BLOCKS), { minLength: 1, maxLength: 8 }),
        fc.constantFrom("\n\n", "\n", "\n\n\n"),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 5 }),
        (pieces, separator, sizes) => {
          const text = pieces.join(separator);
          for (const step of streamed(text, sizes)) {
            expect(step.blocks).toEqual(splitMarkdownBlocks(step.text).blocks);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("parses only the unsettled tail, so a streamed answer costs its length, not its square", () => {
    const text = Array.from({ length: 100 }, (_, index) => BLOCKS[index % (BLOCKS.length - 1)]).join("\n\n");
    parsed.lengths = [];
    const steps = streamed(text, [4]);
    const charactersParsed = parsed.lengths.reduce((sum, length) => sum + length, 0);
    // Re-parsing the whole text on each update would be about steps × length / 2.
    expect(steps.length).toBeGreaterThan(500);
    expect(charactersParsed).toBeLessThan(text.length * 40);
  });

  it("starts over when the text is not a continuation of the previous one", () => {
    const first = splitMarkdownBlocks("# One\n\nTwo");
    expect(splitMarkdownBlocks("# Other\n\nThree", first).blocks).toEqual(["# Other\n\n", "Three"]);
  });
});

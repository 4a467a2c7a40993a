import fc from "fast-check";
import { Lexer } from "marked";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { splitMarkdownBlocks, type MarkdownBlocks, warmUpMarkdownParser } from "./markdown-blocks";

// Records how much text each parse is given, to prove a streamed update parses only the tail.
// Nested parses (list items, quotes) are counted too.
const blockTokens = vi.spyOn(Lexer.prototype, "blockTokens");
const parsedLengths = () => blockTokens.mock.calls.map(([source]) => source.length);

beforeEach(() => {
  blockTokens.mockClear();
});

// Link definitions and indented code included: marked, unlike micromark, reads the lines after them
// the same whether it sees the whole text or a tail.
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
  "[ref]: https://example.com",
  "    indented code",
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
    const text = BLOCKS.slice(0, -1).join("\n\n");
    const { blocks } = splitMarkdownBlocks(text);
    expect(blocks.join("")).toBe(text);
    expect(blocks).toHaveLength(BLOCKS.length - 1);
    expect(blocks[4]).toBe("```ts\nconst x = 1;\n\nconsole.log(x);\n```\n\n");
  });

  it("keeps leading blank lines and indentation with the block they precede", () => {
    expect(splitMarkdownBlocks("\n\n  Indented paragraph\n\nNext").blocks).toEqual([
      "\n\n  Indented paragraph\n\n",
      "Next",
    ]);
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
            const whole = splitMarkdownBlocks(step.text);
            expect(step.blocks).toEqual(whole.blocks);
            expect(step.links).toEqual(whole.links);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps three blocks unsettled, as marked can join a paragraph to a list two blocks after it", () => {
    // "Text\n2. b\n-" reads as a paragraph and two lists; one more letter and "2. b" is the paragraph's again.
    const text = "Some text\n2. continues?\n- one\n- two";
    for (const step of streamed(text, [1])) expect(step.blocks).toEqual(splitMarkdownBlocks(step.text).blocks);
  });

  it("parses only the unsettled tail, so a streamed answer costs its length, not its square", () => {
    const text = Array.from({ length: 100 }, (_, index) => BLOCKS[index % (BLOCKS.length - 1)]).join("\n\n");
    blockTokens.mockClear();
    const steps = streamed(text, [4]);
    const charactersParsed = parsedLengths().reduce((sum, length) => sum + length, 0);
    // Re-parsing the whole text on each update would be about steps × length / 2.
    expect(steps.length).toBeGreaterThan(500);
    expect(charactersParsed).toBeLessThan(text.length * 40);
  });

  it("collects the link definitions of every block, in lists and quotes too, the first of a label winning", () => {
    const text =
      "[a]: https://one.example\n\nText [a] [b] [c]\n\n- item\n\n  [B]: https://two.example 'Two'\n\n> [c]: /three\n\n[a]: https://ignored.example";
    const { links, definitions, blocks } = splitMarkdownBlocks(text);
    expect({ ...links }).toEqual({
      a: { href: "https://one.example", title: undefined },
      b: { href: "https://two.example", title: "Two" },
      c: { href: "/three", title: undefined },
    });
    // What marked itself finds in the whole text.
    expect({ ...links }).toEqual({ ...new Lexer().lex(text).links });
    expect(definitions).toHaveLength(blocks.length);
    expect(Object.keys(definitions[1]!)).toEqual([]);
  });

  it("keeps the same links object while the definitions stay the same, and follows a definition as it is written", () => {
    let blocks = splitMarkdownBlocks("[a]: https://a.example\n\nSee [a]");
    const before = blocks.links;
    blocks = splitMarkdownBlocks("[a]: https://a.example\n\nSee [a] and more", blocks);
    expect(blocks.links).toBe(before);
    const steps = streamed("Use [x].\n\n[x]: https://example.com/long/path", [3]);
    expect(steps.at(-1)!.links.x?.href).toBe("https://example.com/long/path");
  });

  it("cuts text with \\r\\n line endings where it cuts the same text with \\n", () => {
    const text = BLOCKS.slice(0, -1).join("\n\n");
    const crlf = text.replace(/\n/g, "\r\n");
    const { blocks } = splitMarkdownBlocks(crlf);
    expect(blocks.join("")).toBe(crlf);
    expect(blocks.map((block) => block.replace(/\r\n/g, "\n"))).toEqual(splitMarkdownBlocks(text).blocks);
  });

  it("starts over when the text is not a continuation of the previous one", () => {
    const first = splitMarkdownBlocks("# One\n\nTwo");
    expect(splitMarkdownBlocks("# Other\n\nThree", first).blocks).toEqual(["# Other\n\n", "Three"]);
  });
});

describe("warmUpMarkdownParser", () => {
  it("runs the parser over each kind of block and inline text an answer is made of", () => {
    const lex = vi.spyOn(Lexer.prototype, "lex");
    try {
      warmUpMarkdownParser();
      const tokens = lex.mock.results.flatMap((result) => result.value as { type: string; tokens?: unknown[] }[]);
      expect(new Set(tokens.map((token) => token.type))).toEqual(
        new Set(["heading", "paragraph", "list", "blockquote", "code", "table", "space"]),
      );
      const inline = JSON.stringify(tokens);
      for (const type of ["strong", "em", "codespan", "del", "link"]) expect(inline).toContain(`"type":"${type}"`);
    } finally {
      lex.mockRestore();
    }
  });
});

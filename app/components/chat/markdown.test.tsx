// @vitest-environment happy-dom
import { Lexer } from "marked";
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { renderToStaticMarkup } from "react-dom/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { codeKey, ServerHighlightedCode } from "./highlight";
import { Markdown } from "./markdown";

// Records the source of every block lexed for rendering, to count the work a streamed update does.
const lex = vi.spyOn(Lexer.prototype, "lex");
const renderedSources = () => lex.mock.calls.map(([source]) => source);

Object.assign(globalThis, { IS_REACT_ACT_ENVIRONMENT: true });

let container: HTMLElement;
let root: Root;
beforeEach(() => {
  lex.mockClear();
  container = document.createElement("div");
  document.body.append(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

const show = (text: string, streaming = false) =>
  act(() => root.render(<Markdown text={text} streaming={streaming} />));
const highlightedTokens = () => container.querySelectorAll("code [class^='hljs-']").length;

describe("Markdown", () => {
  it("renders markdown with GitHub extensions, and links that open safely in a new tab", () => {
    const html = renderToStaticMarkup(
      <Markdown text={"# Title\n\nSome **bold**.\n\n| a |\n| - |\n| 1 |\n\nSee [docs](https://example.com)."} />,
    );
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<table>");
    expect(html).toContain('href="https://example.com" target="_blank" rel="noopener noreferrer"');
  });

  it("never renders links that run script", () => {
    const html = renderToStaticMarkup(<Markdown text="[click](javascript:alert(1))" />);
    expect(html).not.toContain("javascript:");
  });

  it("shows code at once as plain text, labelled with its language, then highlights it", async () => {
    await show("```ts\nconst answer: number = 42;\n```");
    expect(container.querySelector("[data-testid='code-language']")?.textContent).toBe("ts");
    expect(container.querySelector("pre code")?.textContent).toBe("const answer: number = 42;");
    await vi.waitFor(() => expect(highlightedTokens()).toBeGreaterThan(0));
    expect(container.querySelector(".hljs-keyword")?.textContent).toBe("const");
    expect(container.querySelector("pre code")?.textContent).toBe("const answer: number = 42;");
  });

  it("shows code the server highlighted with the page in colour at once, and only that code", async () => {
    const code = "const answer: number = 42;";
    const fromServer = '<span class="hljs-keyword">const</span> answer: number = 42;';
    const text = `\`\`\`ts\n${code}\n\`\`\`\n\n\`\`\`ts\nlet other = 1;\n\`\`\``;
    const html = renderToStaticMarkup(
      <ServerHighlightedCode value={{ [codeKey("ts", code)]: fromServer }}>
        <Markdown text={text} />
      </ServerHighlightedCode>,
    );
    expect(html).toContain(`<code class="hljs">${fromServer}</code>`);
    expect(html).toContain('<code class="hljs">let other = 1;</code>');
  });

  it("loads a grammar outside the common set when an answer uses it, and leaves unknown languages plain", async () => {
    await show("```elixir\ndefmodule Greeter do\nend\n```\n\n```no-such-language\nplain text\n```");
    await vi.waitFor(() => expect(container.querySelector(".hljs-keyword")?.textContent).toBe("defmodule"));
    expect(container.querySelectorAll("pre code")[1]?.innerHTML).toBe("plain text");
  });

  it("highlights a code block only once it is complete, not while it is being written", async () => {
    await show("Intro\n\n```ts\nconst a = 1;", true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(highlightedTokens()).toBe(0);
    await show("Intro\n\n```ts\nconst a = 1;\n```\n\nAfter", true);
    await vi.waitFor(() => expect(highlightedTokens()).toBeGreaterThan(0));
  });

  it("renders only the block being written on each streamed update", async () => {
    const words = Array.from({ length: 80 }, (_, section) => [
      `## Section ${section}\n\n`,
      ...`Some words about section ${section} that go on for a while. `.split(/(?<= )/),
      "\n\n```ts\nconst x = 1;\n```\n\n",
    ]).flat();
    let text = "";
    for (const word of words) {
      text += word;
      await show(text, true);
    }
    const renderedCharacters = renderedSources().reduce((sum, source) => sum + source.length, 0);
    // Rendering the whole answer on every update would be about updates × length / 2: over 300 times the length here.
    expect(words.length).toBeGreaterThan(1_000);
    expect(renderedCharacters).toBeLessThan(text.length * 20);
    // A finished block is rendered again only when it learns it is complete.
    const firstHeading = "## Section 0\n\n";
    expect(renderedSources().filter((source) => source === firstHeading).length).toBeLessThanOrEqual(2);
  });
});

describe("Markdown elements", () => {
  const all = (selector: string) => [...container.querySelectorAll(selector)];

  it("renders headings h1 to h6", async () => {
    await show("# One\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six");
    expect(all("h1, h2, h3, h4, h5, h6").map((heading) => `${heading.tagName}:${heading.textContent}`)).toEqual([
      "H1:One",
      "H2:Two",
      "H3:Three",
      "H4:Four",
      "H5:Five",
      "H6:Six",
    ]);
  });

  it("renders tables with their columns' alignment", async () => {
    await show("| L | C | R | N |\n|:--|:-:|--:|---|\n| 1 | **2** | 3 | 4 |");
    const align = (cells: Element[]) => cells.map((cell) => (cell as HTMLElement).style.textAlign);
    expect(align(all("thead th"))).toEqual(["left", "center", "right", ""]);
    expect(align(all("tbody td"))).toEqual(["left", "center", "right", ""]);
    expect(all("tbody td").map((cell) => cell.textContent)).toEqual(["1", "2", "3", "4"]);
    expect(container.querySelector("td strong")?.textContent).toBe("2");
  });

  it("renders task lists with disabled checkboxes", async () => {
    await show("- [ ] todo\n- [x] done");
    const boxes = all("ul.contains-task-list > li.task-list-item > input[type=checkbox]") as HTMLInputElement[];
    expect(boxes.map((box) => [box.checked, box.disabled])).toEqual([
      [false, true],
      [true, true],
    ]);
    expect(all("li").map((item) => item.textContent)).toEqual([" todo", " done"]);
  });

  it("renders nested lists, and ordered lists from their first number", async () => {
    await show("- a\n  - b\n    1. c\n\n3. three\n4. four\n\n---\n\n1. one");
    expect(container.querySelector("ul > li > ul > li > ol > li")?.textContent).toBe("c");
    const lists = all("div > ol");
    expect(lists.map((list) => list.getAttribute("start"))).toEqual(["3", null]);
    expect([...lists[0]!.children].map((item) => item.textContent)).toEqual(["three", "four"]);
  });

  it("renders strikethrough, inline code and autolinks", async () => {
    await show("~~gone~~ and `a < b && c` with <https://a.example>, www.example.com and ann@example.com.");
    expect(container.querySelector("p > del")?.textContent).toBe("gone");
    expect(container.querySelector("p > code")?.textContent).toBe("a < b && c");
    expect(all("a").map((link) => [link.getAttribute("href"), link.textContent])).toEqual([
      ["https://a.example", "https://a.example"],
      ["http://www.example.com", "www.example.com"],
      ["mailto:ann@example.com", "ann@example.com"],
    ]);
  });

  it("resolves reference links defined in another block, also when the definition streams in after the use", async () => {
    const text = "See [the docs][docs] and [docs].\n\nMore text.\n\n[docs]: https://docs.example/guide 'Guide'\n";
    await show(text);
    const links = () =>
      all("a").map((link) => [link.getAttribute("href"), link.getAttribute("title"), link.textContent]);
    expect(links()).toEqual([
      ["https://docs.example/guide", "Guide", "the docs"],
      ["https://docs.example/guide", "Guide", "docs"],
    ]);
    expect(container.textContent).not.toContain("[docs]");
    act(() => root.render(<Markdown text="" />));
    for (let end = 1; end <= text.length; end++) await show(text.slice(0, end), end < text.length);
    expect(links()).toHaveLength(2);
    expect(links()[0]?.[0]).toBe("https://docs.example/guide");
  });

  it("renders a quote holding code through the code block", async () => {
    await show("> Run this:\n>\n> ```js\n> run()\n> ```");
    expect(container.querySelector("blockquote > p")?.textContent).toBe("Run this:");
    expect(container.querySelector("blockquote [data-testid='code-language']")?.textContent).toBe("js");
    expect(container.querySelector("blockquote pre code")?.textContent).toBe("run()");
  });

  it("shows raw HTML as text, never as elements", async () => {
    await show(
      'Look: <img src=x onerror=alert(1)> here\n\n<script>alert(1)</script>\n\n<div onclick="alert(1)">block</div>',
    );
    expect(container.querySelector(".markdown img, .markdown script, .markdown div")).toBeNull();
    expect(container.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(container.textContent).toContain("<script>alert(1)</script>");
    expect(container.textContent).toContain('<div onclick="alert(1)">block</div>');
    const html = renderToStaticMarkup(
      <Markdown text={"<img src=x onerror=alert(1)>\n\na <script>alert(1)</script>"} />,
    );
    expect(html).not.toMatch(/<img|<script/);
  });

  it("neutralises javascript: and other unsafe URLs in links and images, keeping safe and relative ones", async () => {
    await show(
      [
        "[a](javascript:alert(1)) [b](JavaScript:alert(1)) [c](javascript&#58;alert(1)) [d][bad] <javascript:alert(1)>",
        "[e](data:text/html,x) ![f](javascript:alert(1)) ![g](data:image/png;base64,xx)",
        "[h](https://ok.example) [i](mailto:ann@example.com) [j](tel:+123) [k](/path?q=a:b) [l](#top)",
        "[bad]: javascript:alert(1)",
      ].join("\n\n"),
    );
    const urls = [
      ...all("a").map((link) => link.getAttribute("href")),
      ...all("img").map((image) => image.getAttribute("src")),
    ];
    expect(urls).toEqual([
      "",
      "",
      "",
      "",
      "",
      "",
      "https://ok.example",
      "mailto:ann@example.com",
      "tel:+123",
      "/path?q=a:b",
      "#top",
      null,
      null,
    ]);
  });

  it("keeps the answer's lines in its text, as a copy or a screen reader gets it", async () => {
    await show("# Title\n\nOne\n\n- a\n- b\n\n> quoted\n>\n> twice\n\n- [x] done");
    expect(container.textContent).toBe("Title\nOne\n\na\nb\n\n\nquoted\ntwice\n\n\n done\n");
  });

  it("shows character references as the characters they stand for", async () => {
    await show("AT&amp;T&nbsp;&quot;x&quot; &#169; &#35; &#x1F600; &lt;b&gt; &unknown;");
    expect(container.querySelector("p")?.textContent).toBe('AT&T\u00a0"x" © # 😀 <b> &unknown;');
  });
});

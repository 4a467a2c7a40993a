// @vitest-environment happy-dom
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { renderToStaticMarkup } from "react-dom/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Markdown } from "./markdown";

// Records the source of every block react-markdown renders, to count the work a streamed update does.
const rendered = vi.hoisted(() => ({ sources: [] as string[] }));
vi.mock("react-markdown", async (importOriginal) => {
  const actual = await importOriginal<typeof import("react-markdown")>();
  return {
    ...actual,
    default: (props: Parameters<typeof actual.default>[0]) => {
      rendered.sources.push(String(props.children));
      return actual.default(props);
    },
  };
});

Object.assign(globalThis, { IS_REACT_ACT_ENVIRONMENT: true });

let container: HTMLElement;
let root: Root;
beforeEach(() => {
  rendered.sources = [];
  container = document.createElement("div");
  document.body.append(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

const show = (text: string, streaming = false) => act(() => root.render(<Markdown text={text} streaming={streaming} />));
const highlightedTokens = () => container.querySelectorAll("code [class^='hljs-']").length;

describe("Markdown", () => {
  it("renders markdown with GitHub extensions, and links that open safely in a new tab", () => {
    const html = renderToStaticMarkup(<Markdown text={"# Title\n\nSome **bold**.\n\n| a |\n| - |\n| 1 |\n\nSee [docs](https://example.com)."} />);
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
    const renderedCharacters = rendered.sources.reduce((sum, source) => sum + source.length, 0);
    // Rendering the whole answer on every update would be about updates × length / 2: over 300 times the length here.
    expect(words.length).toBeGreaterThan(1_000);
    expect(renderedCharacters).toBeLessThan(text.length * 20);
    // A finished block is rendered again only when it learns it is complete.
    const firstHeading = "## Section 0\n\n";
    expect(rendered.sources.filter((source) => source === firstHeading).length).toBeLessThanOrEqual(2);
  });
});

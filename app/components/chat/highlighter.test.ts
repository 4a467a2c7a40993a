import { describe, expect, it } from "vitest";
import hljs from "highlight.js";
import { COMMON_ALIASES, COMMON_GRAMMARS, highlight } from "./highlighter";

const html = highlight;

describe("highlight", () => {
  it("colours code by its language's name or any alias highlight.js knows, as spans with highlight.js classes", async () => {
    expect(await html("const answer: number = 42;", "ts")).toBe(
      '<span class="hljs-keyword">const</span> <span class="hljs-attr">answer</span>: <span class="hljs-built_in">number</span> = <span class="hljs-number">42</span>;',
    );
    expect(await html("def f():\n    return 1", "Python")).toContain('<span class="hljs-keyword">def</span>');
    expect(await html('<a href="x">&amp;</a>', "html")).toContain('<span class="hljs-tag">');
    expect(await html("a: 1", "YML")).toContain('<span class="hljs-attr">a:</span>');
    expect(await html("echo hi", "zsh")).toContain('<span class="hljs-built_in">echo</span>');
  });

  it("fetches other grammars when an answer uses them, under their common short names too", async () => {
    expect(await html('fn main() { println!("hi"); }', "rs")).toContain('<span class="hljs-keyword">fn</span>');
    expect(await html("package main", "golang")).toContain('<span class="hljs-keyword">package</span>');
    expect(await html("SELECT 1", "sql")).toContain('<span class="hljs-keyword">SELECT</span>');
  });

  it("knows the common grammars' aliases exactly as highlight.js defines them", () => {
    const expected = Object.fromEntries(
      Object.keys(COMMON_GRAMMARS).flatMap((name) =>
        (hljs.getLanguage(name)?.aliases ?? []).map((alias) => [alias.toLowerCase(), name]),
      ),
    );
    expect(COMMON_ALIASES).toEqual(expected);
  });

  it("leaves code in a language it has no grammar for alone", async () => {
    expect(await highlight("anything", "no-such-language")).toBeUndefined();
    expect(await highlight("x", "../../package")).toBeUndefined();
  });

  it("keeps the code's text exactly, escaped as text", async () => {
    const code = 'const s = "<script>alert(1)</script>";\n// done';
    const markup = (await html(code, "javascript"))!;
    expect(markup).not.toContain("<script>");
    expect(
      markup
        .replace(/<[^>]+>/g, "")
        .replaceAll("&lt;", "<")
        .replaceAll("&gt;", ">")
        .replaceAll("&quot;", '"'),
    ).toBe(code);
  });
});

import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { highlight } from "./highlighter";

const html = async (code: string, language: string) => {
  const highlighted = await highlight(code, language);
  return highlighted === undefined ? undefined : renderToStaticMarkup(highlighted);
};

describe("highlight", () => {
  it("colours the languages it comes with, by name or alias, as spans with highlight.js classes", async () => {
    expect(await html("const answer: number = 42;", "ts")).toBe(
      '<span class="hljs-keyword">const</span> <span class="hljs-attr">answer</span>: <span class="hljs-built_in">number</span> = <span class="hljs-number">42</span>;',
    );
    expect(await html("def f():\n    return 1", "Python")).toContain('<span class="hljs-keyword">def</span>');
    expect(await html("<a href=\"x\">&amp;</a>", "html")).toContain('<span class="hljs-tag">');
  });

  it("fetches other grammars when an answer uses them, under their common short names too", async () => {
    expect(await html('fn main() { println!("hi"); }', "rs")).toContain('<span class="hljs-keyword">fn</span>');
    expect(await html("package main", "golang")).toContain('<span class="hljs-keyword">package</span>');
    expect(await html("SELECT 1", "sql")).toContain('<span class="hljs-keyword">SELECT</span>');
  });

  it("leaves code in a language it has no grammar for alone", async () => {
    expect(await highlight("anything", "no-such-language")).toBeUndefined();
    expect(await highlight("x", "../../package")).toBeUndefined();
  });

  it("keeps the code's text exactly, escaped as text", async () => {
    const code = 'const s = "<script>alert(1)</script>";\n// done';
    const markup = (await html(code, "javascript"))!;
    expect(markup).not.toContain("<script>");
    expect(markup.replace(/<[^>]+>/g, "").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"')).toBe(code);
  });
});

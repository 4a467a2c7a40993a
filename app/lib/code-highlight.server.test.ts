import { describe, expect, it } from "vitest";
import { codeKey } from "~/components/chat/highlight";
import { highlight } from "~/components/chat/highlighter";
import type { ChatUIMessage } from "../../trigger/chat";
import { highlightAnswerCode } from "./code-highlight.server";

const answer = (text: string, role: ChatUIMessage["role"] = "assistant"): ChatUIMessage => ({
  id: `${role}-${text.length}`,
  role,
  parts: [{ type: "text", text }],
});

describe("highlightAnswerCode", () => {
  it("highlights each fenced block of the answers, wherever it sits, keyed as the page looks it up", async () => {
    const highlighted = await highlightAnswerCode([
      answer(
        "Try:\n\n```ts\nconst a = 1;\n```\n\n- a step\n\n  ```py title=x\n  def f(): pass\n  ```\n\n> ~~~bash\n> echo hi\n> ~~~",
      ),
    ]);
    expect(Object.keys(highlighted).sort()).toEqual(
      [codeKey("ts", "const a = 1;"), codeKey("py", "def f(): pass"), codeKey("bash", "echo hi")].sort(),
    );
    expect(highlighted[codeKey("ts", "const a = 1;")]).toBe(await highlight("const a = 1;", "ts"));
    expect(highlighted[codeKey("py", "def f(): pass")]).toContain('<span class="hljs-keyword">def</span>');
  });

  it("leaves the user's messages, blocks without a language and unknown languages to the page", async () => {
    const highlighted = await highlightAnswerCode([
      answer("```ts\nconst mine = 1;\n```", "user"),
      answer("```\nplain\n```\n\n```no-such-language\nx\n```\n\n    indented code"),
    ]);
    expect(highlighted).toEqual({});
  });

  it("keeps the code text escaped: nothing in it becomes an element", async () => {
    const code = 'const s = "</span><script>alert(1)</script><img src=x onerror=alert(1)>";';
    const html = Object.values(await highlightAnswerCode([answer(`\`\`\`js\n${code}\n\`\`\``)]))[0]!;
    expect(html).not.toMatch(/<(?!\/?span[ >])/);
    expect(
      html
        .replace(/<[^>]+>/g, "")
        .replaceAll("&lt;", "<")
        .replaceAll("&gt;", ">")
        .replaceAll("&quot;", '"')
        .replaceAll("&amp;", "&"),
    ).toBe(code);
  });

  it("stops at its budget: a page with more code than that highlights the rest in the browser", async () => {
    const blocks = Array.from({ length: 250 }, (_, index) => `\`\`\`js\nconst n = ${index};\n\`\`\``).join("\n\n");
    expect(Object.keys(await highlightAnswerCode([answer(blocks)]))).toHaveLength(200);
  });
});

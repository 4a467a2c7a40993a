import { ChatPage, expect, test } from "./fixtures";

test.describe("code in answers", () => {
  test("a reopened chat shows its code in colour without fetching the highlighter; a new answer's code is coloured too", async ({
    page,
  }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("Some code:\n\n```ts\nconst answer: number = 42;\n```");
    await chat.expectComplete();
    await expect(chat.answer().locator("pre .hljs-keyword").first()).toHaveText("const");

    const highlighterRequests: string[] = [];
    page.on("request", (request) => {
      if (/\/assets\/(highlighter|grammar-index|typescript)-/.test(request.url()))
        highlighterRequests.push(request.url());
    });
    // In colour in the server's HTML, before any script could colour it.
    expect(await (await page.request.get(page.url())).text()).toContain('<span class="hljs-keyword">const</span>');
    await page.reload();
    await chat.hydrated();
    await expect(chat.answer().locator("pre .hljs-keyword").first()).toHaveText("const");
    await expect(chat.answer().locator("pre code").first()).toHaveText("const answer: number = 42;");
    await page.waitForLoadState("networkidle");
    expect(highlighterRequests).toEqual([]);

    await chat.send("More:\n\n```rust\nfn main() {}\n```");
    await chat.expectComplete();
    await expect(chat.answer().locator("pre .hljs-keyword").first()).toHaveText("fn");
    expect(highlighterRequests.some((url) => url.includes("/highlighter-"))).toBe(true);
  });
});

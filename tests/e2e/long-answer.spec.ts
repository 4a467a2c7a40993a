import { AppServer } from "./app-server";
import { ANSWER_END, ChatPage, expect, needsLocalServer, test } from "./fixtures";

// A server of its own, with the offline model writing a word every 2 ms: a 4,000-word answer in
// seconds, and updates far more frequent than a real model's, so the renderer works hardest.
test.describe("a 4,000-word markdown answer", () => {
  needsLocalServer("starts a server of its own with a fast offline model");
  let server: AppServer;
  test.beforeAll(async () => {
    server = await AppServer.start({ wordDelayMs: 2 });
  });
  test.afterAll(async () => {
    await server.close();
  });

  test("streams in full, matches the model's text, and reads the same after a reload", async ({ page }) => {
    test.setTimeout(120_000);
    const chat = new ChatPage(page);
    await chat.open(server.url);
    await chat.send("/long 4000");
    await expect(chat.answer()).toContainText(ANSWER_END, { timeout: 90_000 });
    await chat.expectComplete();
    const streamed = chat.answer();

    // The model's own words, as the agent saved them.
    const saved = await page.request.post(`${server.url}/api/chats/${chat.chatId()}/transcript`, {
      data: {},
      headers: { Origin: server.url },
    });
    const { messages } = (await saved.json()) as {
      messages: { role: string; parts: { type: string; text?: string }[] }[];
    };
    const markdown = messages
      .at(-1)!
      .parts.flatMap((part) => (part.type === "text" ? [part.text!] : []))
      .join("");
    const fences = [...markdown.matchAll(/```(\w+)\n([\s\S]*?)\n```/g)];
    const headings = markdown.split("\n").filter((line) => line.startsWith("## "));
    expect(fences.length).toBeGreaterThanOrEqual(40);

    // Every block is there, in order, with the text the model wrote.
    await expect(streamed.locator("h2")).toHaveText(headings.map((heading) => heading.slice(3)));
    await expect(streamed.locator("pre code")).toHaveText(fences.map((fence) => fence[2]!));
    await expect(streamed.getByTestId("code-language")).toHaveText(fences.map((fence) => fence[1]!));
    await expect(streamed.locator("table")).toHaveCount(markdown.split("| Step | Topic | Status |").length - 1);
    // Finished code is highlighted, down to the last code block.
    await expect(streamed.locator("pre").last().locator("[class^='hljs-']").first()).toBeVisible();

    // Rendered whole by the server, the saved answer reads exactly as the streamed one did.
    const streamedText = await streamed.innerText();
    await page.reload();
    await expect(chat.answer()).toContainText(ANSWER_END);
    expect(await chat.answer().innerText()).toBe(streamedText);
  });
});

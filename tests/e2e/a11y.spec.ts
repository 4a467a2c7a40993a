import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { ANSWER_END, ChatPage, expect, LONG_PROMPT, needsOfflineModel, test } from "./fixtures";

/** axe-core's serious and critical findings on the page as it is now, WCAG 2.x A and AA plus best practices. */
async function seriousViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  return violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
    );
}

for (const colorScheme of ["light", "dark"] as const) {
  test.describe(`axe-core, ${colorScheme}`, () => {
    test.use({ colorScheme });

    test("the start page, a finished chat with code, and the delete dialog have no serious violation", async ({
      page,
    }) => {
      needsOfflineModel("relies on the offline model quoting the code block");
      const chat = new ChatPage(page);
      await chat.open();
      await chat.hydrated();
      expect(await seriousViolations(page), "start page").toEqual([]);

      await chat.send("Show me some code:\n\n```ts\nconst answer: number = 42;\n```");
      await chat.expectComplete();
      await expect(chat.answer().locator("pre [class^='hljs-']").first()).toBeVisible();
      expect(await seriousViolations(page), "finished chat").toEqual([]);

      await chat.sidebar.items
        .first()
        .getByRole("button", { name: /Delete chat/ })
        .click();
      await expect(page.getByRole("dialog", { name: "Delete chat?" })).toBeVisible();
      expect(await seriousViolations(page), "delete dialog").toEqual([]);
    });

    test("editing a message, renaming a chat and search results have no serious violation", async ({ page }) => {
      const chat = new ChatPage(page);
      await chat.open();
      await chat.ask("A question to edit");

      const message = chat.messages.user.first();
      await message.hover();
      await message.getByRole("button", { name: "Edit message" }).click();
      await expect(message.getByRole("textbox", { name: "Edited message" })).toBeFocused();
      expect(await seriousViolations(page), "message being edited").toEqual([]);
      await page.keyboard.press("Escape");
      await expect(message.getByRole("button", { name: "Edit message" })).toBeFocused();

      const item = chat.sidebar.items.first();
      await item.hover();
      await item.getByRole("button", { name: /^Rename chat/ }).click();
      await expect(chat.sidebar.root.getByRole("textbox", { name: "Chat title" })).toBeFocused();
      expect(await seriousViolations(page), "chat being renamed").toEqual([]);
      await page.keyboard.press("Escape");

      await chat.sidebar.search.fill("question");
      await expect(chat.sidebar.root.getByTestId("chat-search-results").getByRole("status")).toContainText("match");
      expect(await seriousViolations(page), "search results").toEqual([]);
    });

    test("a stopped answer and the drawer on a phone have no serious violation", async ({ page }) => {
      needsOfflineModel("stops a long answer of the offline model mid-stream");
      await page.setViewportSize({ width: 390, height: 844 });
      const chat = new ChatPage(page);
      await chat.open();
      await chat.send(LONG_PROMPT);
      await chat.expectGrowing(2);
      await chat.stopButton.click();
      await expect(chat.answer().getByTestId("stopped-marker")).toBeVisible();
      expect(await seriousViolations(page), "stopped answer").toEqual([]);

      await page.getByRole("button", { name: "Open sidebar" }).click();
      await expect(page.getByRole("dialog", { name: "Chats" })).toBeVisible();
      expect(await seriousViolations(page), "drawer").toEqual([]);
    });
  });
}

test.describe("by keyboard alone", () => {
  test("new chat, send, stop, open a chat and delete it, with the focus where it should be at each step", async ({
    page,
  }) => {
    needsOfflineModel();
    const chat = new ChatPage(page);
    await chat.open();
    // The page opens ready to type.
    await chat.hydrated();
    await page.keyboard.type("First, by keyboard");
    await page.keyboard.press("Enter");
    await chat.expectComplete();
    await expect(chat.input).toBeFocused();

    await page.keyboard.type(LONG_PROMPT);
    await page.keyboard.press("Enter");
    await chat.expectGrowing(2);
    // Escape stops the answer from the composer, which keeps the focus.
    await page.keyboard.press("Escape");
    await expect(chat.answer().getByTestId("stopped-marker")).toBeVisible();
    await expect(chat.input).toBeFocused();
    await expect(page.getByTestId("chat-status")).toHaveText("Answer stopped.");

    // Tab reaches Regenerate and Enter uses it; the focus returns to the composer.
    const regenerate = chat.answer().getByRole("button", { name: "Regenerate" });
    await tabUntilFocused(page, regenerate);
    await page.keyboard.press("Enter");
    await chat.expectComplete();
    await expect(chat.input).toBeFocused();
    await expect(chat.answer()).toContainText(ANSWER_END);

    // New chat from the sidebar by keyboard, then back to the first chat.
    const firstUrl = page.url();
    await tabUntilFocused(page, chat.sidebar.newChatLink, "Shift+Tab");
    await page.keyboard.press("Enter");
    await expect(page).not.toHaveURL(firstUrl);
    await expect(chat.input).toBeFocused();
    await page.keyboard.type("Second chat");
    await page.keyboard.press("Enter");
    await chat.expectComplete();

    const items = chat.sidebar.items;
    await expect(items).toHaveCount(2);
    await tabUntilFocused(page, items.filter({ hasText: "First, by keyboard" }).getByRole("link"), "Shift+Tab");
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(firstUrl);
    await expect(chat.input).toBeFocused();

    // Delete the other chat from the keyboard: the dialog opens on its buttons, and focus lands on a chat after.
    await tabUntilFocused(
      page,
      items.filter({ hasText: "Second chat" }).getByRole("button", { name: /Delete chat/ }),
      "Shift+Tab",
    );
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Delete chat?" });
    await expect(dialog).toBeVisible();
    await expect(dialog.locator(":focus")).toHaveCount(1);
    await tabUntilFocused(page, dialog.getByRole("button", { name: "Delete" }));
    await page.keyboard.press("Enter");
    await expect(items).toHaveCount(1);
    await expect(items.getByRole("link")).toBeFocused();
  });
});

/** Presses Tab (or Shift+Tab) until `target` has the focus; fails if it never does within 40 presses. */
async function tabUntilFocused(page: Page, target: ReturnType<Page["locator"]>, key: "Tab" | "Shift+Tab" = "Tab") {
  for (let presses = 0; presses < 40; presses++) {
    if (await target.evaluate((element) => element === document.activeElement)) return;
    await page.keyboard.press(key);
  }
  await expect(target).toBeFocused({ timeout: 1 });
}

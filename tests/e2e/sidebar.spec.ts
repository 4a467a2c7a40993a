import { CHAT_URL, ChatPage, expect, test } from "./fixtures";

test.describe("chat list", () => {
  test("lists the visitor's chats newest first, opens them, and deletes them", async ({ page, browserErrors }) => {
    const chat = new ChatPage(page);
    const items = chat.sidebar.items;
    await chat.open();
    await expect(chat.sidebar.root).toContainText("No chats yet");

    await chat.send("First chat, about apples");
    await chat.expectComplete();
    const firstUrl = page.url();
    await expect(items).toHaveText(["First chat, about apples"]);
    await expect(page.getByTestId("chat-title")).toHaveText("First chat, about apples");

    await chat.sidebar.newChatLink.click();
    await expect(page).not.toHaveURL(firstUrl);
    await expect(page).toHaveURL(CHAT_URL);
    await expect(page.getByRole("heading", { name: "How can I help you today?" })).toBeVisible();

    await chat.send("Second chat, about pears");
    await chat.expectComplete();
    const secondUrl = page.url();
    await expect(items).toHaveText(["Second chat, about pears", "First chat, about apples"]);

    await items.getByRole("link", { name: "First chat, about apples" }).click();
    await expect(page).toHaveURL(firstUrl);
    await expect(chat.userMessages).toHaveText(["First chat, about apples"]);
    await chat.expectComplete();
    await expect(items.getByRole("link", { name: "First chat, about apples" })).toHaveAttribute("aria-current", "page");

    // Deleting the open chat asks first, then moves to a new chat.
    await items
      .filter({ hasText: "First chat" })
      .getByRole("button", { name: /Delete chat/ })
      .click();
    const dialog = page.getByRole("dialog", { name: "Delete chat?" });
    await expect(dialog).toContainText("“First chat, about apples” will be deleted");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await expect(items).toHaveCount(2);

    await items
      .filter({ hasText: "First chat" })
      .getByRole("button", { name: /Delete chat/ })
      .click();
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(page).not.toHaveURL(firstUrl);
    await expect(page).toHaveURL(CHAT_URL);
    await expect(items).toHaveText(["Second chat, about pears"]);

    // Deleting another chat stays where you are.
    const here = page.url();
    await items.getByRole("button", { name: /Delete chat/ }).click();
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(chat.sidebar.root).toContainText("No chats yet");
    expect(page.url()).toBe(here);

    // Deleted means gone, for its owner too.
    browserErrors.expect(/Failed to load resource: the server responded with a status of 404/);
    const response = await page.goto(secondUrl);
    expect(response?.status()).toBe(404);
    await expect(page.getByTestId("chat-not-found")).toBeVisible();
  });

  test("on a narrow screen the list is a drawer behind a menu button", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("A chat on a phone");
    await chat.expectComplete();
    await expect(chat.sidebar.root).toBeHidden();

    await chat.sidebar.openButton.click();
    await expect(chat.sidebar.root).toBeVisible();
    await chat.sidebar.newChatLink.click();
    await expect(chat.sidebar.root).toBeHidden();
    await expect(page.getByRole("heading", { name: "How can I help you today?" })).toBeVisible();

    await chat.sidebar.openButton.click();
    await chat.sidebar.root.getByRole("link", { name: "A chat on a phone" }).click();
    await expect(chat.sidebar.root).toBeHidden();
    await expect(chat.userMessages).toHaveText(["A chat on a phone"]);
  });
});

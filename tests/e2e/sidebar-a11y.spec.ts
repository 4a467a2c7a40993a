import { CHAT_URL, ChatPage, expect, test } from "./fixtures";

test.describe("sidebar and header", () => {
  test("a markdown first message gives a plain-text title in the sidebar and the header", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("## Why is **this** `Array.at` [slow](https://example.com)?");
    await chat.expectComplete();
    const title = "Why is this Array.at slow?";
    await expect(chat.sidebar.items).toHaveText([title]);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);
    await expect(page.getByTestId("chat-title")).toHaveText(title);
    await page.reload();
    await expect(page.getByTestId("chat-title")).toHaveText(title);
  });

  test("the page has one main landmark and one h1", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await expect(page.getByRole("main")).toHaveCount(1);
    await expect(page.getByRole("heading", { level: 1 })).toHaveCount(1);
    await expect(page.getByRole("heading", { level: 2, name: "How can I help you today?" })).toBeVisible();
    await expect(page.getByRole("main").getByRole("textbox", { name: "Message" })).toBeVisible();
  });

  test("on a narrow screen the header's New chat starts a new chat in one tap", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("A chat on a phone, then another");
    await chat.expectComplete();
    const first = page.url();

    const newChat = page.getByTestId("header-new-chat");
    await expect(newChat).toHaveAccessibleName("New chat");
    await newChat.click();
    await expect(page).not.toHaveURL(first);
    await expect(page).toHaveURL(CHAT_URL);
    await expect(page.getByRole("heading", { name: "How can I help you today?" })).toBeVisible();
    await expect(chat.sidebar.root).toBeHidden();
  });

  test("the header's New chat is hidden on wide screens, where the sidebar has one", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await expect(page.getByTestId("header-new-chat")).toBeHidden();
    await expect(page.getByRole("link", { name: "New chat" })).toHaveCount(1);
  });

  test("after a delete, focus moves to the next chat; after Cancel, back to the delete button", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    for (const text of ["Focus one", "Focus two", "Focus three"]) {
      await chat.send(text);
      await chat.expectComplete();
      await chat.sidebar.newChatLink.click();
      await expect(page.getByRole("heading", { name: "How can I help you today?" })).toBeVisible();
    }
    const items = chat.sidebar.items;
    await expect(items).toHaveText(["Focus three", "Focus two", "Focus one"]);
    const dialog = page.getByRole("dialog", { name: "Delete chat?" });
    const deleteButton = (name: string) => items.filter({ hasText: name }).getByRole("button", { name: /Delete chat/ });
    const activeElement = () =>
      page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.textContent}`);

    await deleteButton("Focus two").focus();
    await page.keyboard.press("Enter");
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await expect(deleteButton("Focus two")).toBeFocused();

    await page.keyboard.press("Enter");
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(items).toHaveText(["Focus three", "Focus one"]);
    await expect.poll(activeElement).toBe("A Focus one");
    await expect(items.filter({ hasText: "Focus one" }).getByRole("link")).toBeFocused();

    // The last chat of the list: focus goes to the one before it.
    await deleteButton("Focus one").focus();
    await page.keyboard.press("Enter");
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(items).toHaveText(["Focus three"]);
    await expect(items.filter({ hasText: "Focus three" }).getByRole("link")).toBeFocused();

    await deleteButton("Focus three").focus();
    await page.keyboard.press("Enter");
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(chat.sidebar.root).toContainText("No chats yet");
    await expect(chat.sidebar.root.getByTestId("new-chat")).toBeFocused();
    expect(await page.evaluate(() => document.activeElement === document.body)).toBe(false);
  });
});

import { randomUUID } from "node:crypto";
import { ENGINE, engineSecretKey, GUEST_COOKIE, guestIdOf } from "./api";
import { ChatPage, expect, needsLocalServer, test } from "./fixtures";

const OLDER_CHATS = 51;

test.describe("chat list past one page", () => {
  needsLocalServer("creates sessions with the engine's secret key from the data folder");
  test("Show more loads the chats past the first 50", async ({ page, baseURL }) => {
    test.setTimeout(120_000);
    const chat = new ChatPage(page);
    await chat.open();
    // The first start makes the visitor a guest; this chat is the oldest of the list.
    await chat.send("The oldest chat");
    await chat.expectComplete();
    const cookie = (await page.context().cookies()).find((c) => c.name === GUEST_COOKIE);
    expect(cookie, "the visit made a guest").toBeDefined();
    const guestTag = `guest:${guestIdOf(`${GUEST_COOKIE}=${cookie!.value}`)}`;

    // Seeded straight into the engine with its secret key, as the app's start would tag them: 51 starts
    // through the app would take two minutes of the rate limit.
    const origin = new URL(baseURL!).origin;
    for (let n = 1; n <= OLDER_CHATS; n++) {
      const chatId = randomUUID();
      const response = await page.request.post(`${ENGINE}/api/v1/sessions`, {
        headers: { Origin: origin, Authorization: `Bearer ${engineSecretKey()}` },
        data: {
          type: "chat.agent",
          taskIdentifier: "chat",
          externalId: chatId,
          tags: [guestTag],
          metadata: { title: `Seeded chat ${String(n).padStart(2, "0")}`, titleFormat: "text" },
          triggerConfig: { basePayload: { chatId, messages: [], trigger: "preload" } },
        },
      });
      expect(response.status(), await response.text()).toBe(201);
    }

    await page.reload();
    const items = chat.sidebar.items;
    await expect(items).toHaveCount(50);
    await expect(items.first()).toHaveText(`Seeded chat ${OLDER_CHATS}`);
    await expect(chat.sidebar.root.getByRole("link", { name: "Seeded chat 01" })).toHaveCount(0);

    const showMore = chat.sidebar.showMoreButton;
    await showMore.click();
    await expect(items).toHaveCount(52);
    await expect(items.nth(50)).toHaveText("Seeded chat 01");
    await expect(items.last()).toHaveText("The oldest chat");
    await expect(showMore).toBeHidden();
    // The button left with the last page; focus went to the first chat it brought, not to <body>.
    await expect(chat.sidebar.root.getByRole("link", { name: "Seeded chat 01" })).toBeFocused();

    // A new chat pushes one off the first page; the loaded ones stay listed.
    await chat.sidebar.newChatLink.click();
    await expect(page.getByRole("heading", { name: "How can I help you today?" })).toBeVisible();
    await chat.send("A newer chat");
    await chat.expectComplete();
    await expect(items).toHaveCount(53);
    await expect(items.first()).toHaveText("A newer chat");
    await expect(items.nth(50)).toHaveText("Seeded chat 02");
    await expect(items.last()).toHaveText("The oldest chat");

    // Deleting a chat from the older page removes it there too.
    await items
      .filter({ hasText: "Seeded chat 01" })
      .getByRole("button", { name: /Delete chat/ })
      .click();
    await page.getByRole("dialog", { name: "Delete chat?" }).getByRole("button", { name: "Delete" }).click();
    await expect(items).toHaveCount(52);
    await expect(chat.sidebar.root.getByRole("link", { name: "Seeded chat 01" })).toHaveCount(0);
    await expect(items.last()).toHaveText("The oldest chat");
  });
});

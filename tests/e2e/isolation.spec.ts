import { ChatPage, expect, test } from "./fixtures";

test.describe("chats are private to their guest", () => {
  test("another visitor can neither open a chat nor get a token for it", async ({
    page,
    newVisitor,
    browserErrors,
    apiPost,
  }) => {
    const owner = new ChatPage(page);
    await owner.open();
    await owner.send("My secret plans for the weekend");
    await owner.expectComplete();
    const chatId = owner.chatId();

    const visitor = await newVisitor();
    const intruder = new ChatPage(await visitor.newPage());
    browserErrors.expect(/Failed to load resource: the server responded with a status of 404/);
    const response = await intruder.page.goto(`/chat/${chatId}`);

    expect(response?.status()).toBe(404);
    expect(await response?.text()).not.toContain("secret plans");
    await expect(intruder.page.getByTestId("chat-not-found")).toBeVisible();
    await expect(intruder.page.locator("body")).not.toContainText("secret plans");
    await expect(intruder.sidebar.root).not.toContainText("secret plans");

    for (const endpoint of ["token", "transcript", "delete", "session"]) {
      const api = await apiPost(visitor.request, `/api/chats/${chatId}/${endpoint}`);
      expect(api.status(), endpoint).toBe(404);
      expect(await api.json(), endpoint).toEqual({ error: "Chat not found" });
    }
    const list = await apiPost(visitor.request, "/api/chats");
    expect(await list.json()).toEqual({ chats: [] });

    // The failed attempts changed nothing for the owner.
    await page.reload();
    await expect(owner.userMessages).toHaveText(["My secret plans for the weekend"]);
    await owner.send("Still mine?");
    await expect(owner.answers).toHaveCount(2);
    await owner.expectComplete();
  });

  test("malformed chat ids are rejected", async ({ page, request, browserErrors, apiPost }) => {
    for (const endpoint of ["token", "transcript", "delete", "session"]) {
      const api = await apiPost(request, `/api/chats/not-a-chat-id/${endpoint}`);
      expect(api.status(), endpoint).toBe(400);
      expect(await api.json(), endpoint).toEqual({ error: "chatId must be a UUID" });
    }
    browserErrors.expect(/Failed to load resource: the server responded with a status of 404/);
    const response = await page.goto("/chat/not-a-chat-id");
    expect(response?.status()).toBe(404);
    await expect(page.getByTestId("chat-not-found")).toBeVisible();
  });
});

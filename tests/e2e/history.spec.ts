import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ENGINE, engineSecretKey, GUEST_COOKIE, guestIdOf } from "./api";
import { AppServer } from "./app-server";
import { ChatPage, expect, needsLocalServer, needsOfflineModel, test } from "./fixtures";

/*
 * Edit, regenerate and undo (the agent's actions on its stored history), the
 * title the agent writes, and the sidebar's rename and search. Each change is
 * checked again after a reload: the agent's history and the screen agree.
 */

test.describe("edit, regenerate and undo", () => {
  needsOfflineModel("checks which question each answer quotes");

  test("editing an earlier message replaces everything after it, also after a reload", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("First question");
    await chat.ask("Second question");

    await chat.messages.edit(0, "Edited question");
    await expect(chat.messages.user).toHaveText(["Edited question"]);
    await expect(chat.messages.answers).toHaveCount(1);
    await chat.messages.waitForAnswer();
    await expect(chat.messages.answer()).toContainText("Edited question");

    await page.reload();
    await expect(chat.messages.user).toHaveText(["Edited question"]);
    await expect(chat.messages.answers).toHaveCount(1);
    await expect(chat.messages.answer()).toContainText("Edited question");
    await expect(page.getByText("Second question")).toHaveCount(0);

    // The agent answers from the edited history: the next question is its turn 2.
    await chat.ask("Third question");
    await expect(chat.messages.answer()).toContainText("This is turn 2");
  });

  test("regenerate writes one answer again in its place, and drops what came after it", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("Alpha");
    await chat.ask("Beta");
    const [, firstAnswer] = await chat.messages.ids();

    await chat.messages.regenerate(0);
    await expect(chat.messages.user).toHaveText(["Alpha"]);
    await expect(chat.messages.answers).toHaveCount(1);
    await chat.messages.waitForAnswer();
    const [, regenerated] = await chat.messages.ids();
    expect(regenerated).not.toBe(firstAnswer);

    // The last answer, again: still one answer, a new one.
    await chat.messages.regenerate();
    await chat.messages.waitForAnswer();
    await expect(chat.messages.answers).toHaveCount(1);
    const afterSecond = await chat.messages.ids();
    expect(afterSecond[1]).not.toBe(regenerated);

    await page.reload();
    await expect(chat.messages.answers).toHaveCount(1);
    expect(await chat.messages.ids()).toEqual(afterSecond);
  });

  test("undo takes back the last exchange and hands the message back to the composer", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("Keep this");
    await chat.ask("Undo this");

    await chat.messages.undo();
    await expect(chat.messages.user).toHaveText(["Keep this"]);
    await expect(chat.messages.answers).toHaveCount(1);
    await expect(chat.composer.input).toHaveValue("Undo this");
    await expect(chat.composer.sendButton).toBeEnabled();

    await page.reload();
    await expect(chat.messages.user).toHaveText(["Keep this"]);
    await expect(chat.messages.answers).toHaveCount(1);
    await chat.ask("Instead this");
    await expect(chat.messages.answer()).toContainText("This is turn 2");
  });

  test("an edit of a message the agent does not have is refused plainly, and nothing is lost", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("Only question");
    // As a stale page would: the edit names a message the agent's history does not hold.
    await page.route("**/in/append", async (route) => {
      const body = route.request().postDataJSON() as { payload?: { trigger?: string; action?: { messageId: string } } };
      if (body.payload?.trigger !== "action") return route.continue();
      body.payload.action!.messageId = "no-such-message";
      await route.continue({ postData: JSON.stringify(body) });
    });

    await chat.messages.edit(0, "Changed question");
    await expect(chat.errors.alert).toContainText("That message isn’t in this chat any more.");
    await expect(chat.errors.retryButton).toHaveCount(0);
    // The page goes back to what the agent kept.
    await expect(chat.messages.user).toHaveText(["Only question"]);
    await expect(chat.messages.answers).toHaveCount(1);

    await page.unroute("**/in/append");
    await page.reload();
    await expect(chat.messages.user).toHaveText(["Only question"]);
    await expect(chat.messages.answers).toHaveCount(1);
  });
});

test.describe("titles", () => {
  needsOfflineModel("checks the title derived from the first question");

  test("the agent titles the chat after the first exchange, in the sidebar and the tab", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("what is the tallest mountain on earth? I would like to know its height too");
    const title = "What is the tallest mountain on earth?";
    await expect(chat.sidebar.item(chat.chatId())).toHaveText(title);
    await expect(page).toHaveTitle(`${title} · Chat`);
    await expect(page.getByTestId("chat-title")).toHaveText(title);

    await page.reload();
    await expect(chat.sidebar.item(chat.chatId())).toHaveText(title);
    await expect(page).toHaveTitle(`${title} · Chat`);
  });

  test("rename: stored in the chat, kept from the agent, and bad titles refused", async ({
    page,
    apiPost,
    newVisitor,
  }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("Name me later");
    const chatId = chat.chatId();
    await expect(chat.sidebar.item(chatId)).toHaveText("Name me later");

    await chat.sidebar.renameChat("Name me later", "My renamed chat");
    await expect(page).toHaveTitle("My renamed chat · Chat");
    await expect(chat.sidebar.item(chatId).getByRole("link", { name: "My renamed chat" })).toBeFocused();

    // An empty title is refused where it was typed, and the box keeps it.
    const item = chat.sidebar.item(chatId);
    await item.hover();
    await item.getByRole("button", { name: "Rename chat “My renamed chat”" }).click();
    const box = chat.sidebar.root.getByRole("textbox", { name: "Chat title" });
    await box.fill("   ");
    await box.press("Enter");
    await expect(item.getByRole("alert")).toHaveText("The title can’t be empty.");
    await box.press("Escape");
    await expect(item).toHaveText("My renamed chat");

    // What the page's box cannot send, the route refuses with a sentence.
    const long = await apiPost(page.request, `/api/chats/${chatId}/rename`, { title: "x".repeat(10_000) });
    expect(long.status()).toBe(400);
    expect(await long.json()).toEqual({
      error: "Invalid request body: title: The title can be at most 100 characters.",
    });
    const empty = await apiPost(page.request, `/api/chats/${chatId}/rename`, { title: "" });
    expect(empty.status()).toBe(400);
    const stranger = await newVisitor();
    const foreign = await apiPost(stranger.request, `/api/chats/${chatId}/rename`, { title: "Taken" });
    expect(foreign.status()).toBe(404);

    // A later turn leaves the user's title alone.
    await chat.ask("One more");
    await page.reload();
    await expect(chat.sidebar.item(chatId)).toHaveText("My renamed chat");
    await expect(page).toHaveTitle("My renamed chat · Chat");
  });
});

test.describe("finding chats", () => {
  needsLocalServer("seeds sessions with the engine's secret key from the data folder");

  test("search covers every chat, also those past the loaded page", async ({ page, baseURL }) => {
    test.setTimeout(120_000);
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("Zebra stripes explained");
    const zebra = chat.chatId();
    await expect(chat.sidebar.item(zebra)).toHaveText("Zebra stripes explained");
    const cookie = (await page.context().cookies()).find((c) => c.name === GUEST_COOKIE)!;
    const guestTag = `guest:${guestIdOf(`${GUEST_COOKIE}=${cookie.value}`)}`;

    // Newer chats push the first one past the sidebar's first page of 50, and past the first page of 100
    // that the server reads while it searches.
    const origin = new URL(baseURL!).origin;
    for (let n = 1; n <= 120; n++) {
      const chatId = randomUUID();
      const response = await page.request.post(`${ENGINE}/api/v1/sessions`, {
        headers: { Origin: origin, Authorization: `Bearer ${engineSecretKey()}` },
        data: {
          type: "chat.agent",
          taskIdentifier: "chat",
          externalId: chatId,
          tags: [guestTag],
          metadata: { title: `Filler chat ${n}`, titleFormat: "text" },
          triggerConfig: { basePayload: { chatId, messages: [], trigger: "preload" } },
        },
      });
      expect(response.status(), await response.text()).toBe(201);
    }
    await page.reload();
    await chat.composer.hydrated();
    await expect(chat.sidebar.items).toHaveCount(50);
    await expect(chat.sidebar.item(zebra)).toHaveCount(0);

    await chat.sidebar.search.fill("ZEBRA");
    const results = chat.sidebar.root.getByTestId("chat-search-results");
    await expect(results.getByRole("status")).toHaveText("1 chat matches “ZEBRA”.");
    await expect(chat.sidebar.items).toHaveText(["Zebra stripes explained"]);
    await chat.sidebar.search.fill("no such chat");
    await expect(results.getByRole("status")).toHaveText("No chats match “no such chat”.");
    await chat.sidebar.search.fill("filler chat 4");
    await expect(chat.sidebar.items).toHaveText([
      "Filler chat 49",
      "Filler chat 48",
      "Filler chat 47",
      "Filler chat 46",
      "Filler chat 45",
      "Filler chat 44",
      "Filler chat 43",
      "Filler chat 42",
      "Filler chat 41",
      "Filler chat 40",
      "Filler chat 4",
    ]);

    // Escape clears the search and brings the dated list back.
    await chat.sidebar.search.press("Escape");
    await expect(chat.sidebar.groupHeadings).toHaveText(["Today"]);
    await expect(chat.sidebar.items).toHaveCount(50);
  });
});

test.describe("chats by date", () => {
  // The browser groups in its own time zone; the dates below are made in this process's.
  test.use({ timezoneId: Intl.DateTimeFormat().resolvedOptions().timeZone });

  let server: AppServer;
  test.beforeAll(async () => {
    server = await AppServer.start({ wordDelayMs: 0 });
  });
  test.afterAll(async () => {
    await server?.close();
  });

  test("the sidebar groups chats under Today, Yesterday, Previous 7 days and Older", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open(server.url);
    await chat.ask("A chat from today");
    const todayId = chat.chatId();
    const cookie = (await page.context().cookies()).find((c) => c.name === GUEST_COOKIE)!;
    const guestTag = `guest:${guestIdOf(`${GUEST_COOKIE}=${cookie.value}`)}`;

    // Older chats: made now, then dated back in the engine's data folder while the server is down,
    // as chats from earlier days would have been written. The app has no way to backdate a chat.
    const noonDaysAgo = (days: number) => {
      const date = new Date();
      return new Date(date.getFullYear(), date.getMonth(), date.getDate() - days, 12).toISOString();
    };
    const dated = [
      { title: "Asked yesterday", createdAt: noonDaysAgo(1) },
      { title: "Asked three days ago", createdAt: noonDaysAgo(3) },
      { title: "Asked last month", createdAt: noonDaysAgo(40) },
    ];
    const secretKey = fs.readFileSync(path.join(server.dataDir, "secret-key"), "utf8").trim();
    const friendlyIds = new Map<string, string>();
    for (const { title } of dated) {
      const chatId = randomUUID();
      const response = await page.request.post(`${server.url}${ENGINE}/api/v1/sessions`, {
        headers: { Origin: server.url, Authorization: `Bearer ${secretKey}` },
        data: {
          type: "chat.agent",
          taskIdentifier: "chat",
          externalId: chatId,
          tags: [guestTag],
          metadata: { title, titleFormat: "text" },
          triggerConfig: { basePayload: { chatId, messages: [], trigger: "preload" } },
        },
      });
      expect(response.status(), await response.text()).toBe(201);
      friendlyIds.set(title, ((await response.json()) as { id: string }).id);
    }
    await server.kill();
    for (const { title, createdAt } of dated) {
      const dir = path.join(server.dataDir, "sessions", friendlyIds.get(title)!);
      for (const file of ["session.json", "created.json"]) {
        const rowPath = path.join(dir, file);
        if (!fs.existsSync(rowPath)) continue;
        const row = JSON.parse(fs.readFileSync(rowPath, "utf8")) as Record<string, unknown>;
        fs.writeFileSync(rowPath, JSON.stringify({ ...row, createdAt, updatedAt: createdAt }));
      }
    }
    await server.start();

    await chat.openChat(todayId, server.url);
    await chat.hydrated();
    await expect(chat.sidebar.groupHeadings).toHaveText(["Today", "Yesterday", "Previous 7 days", "Older"]);
    await expect(chat.sidebar.group("Today").getByTestId("chat-list-item")).toHaveText(["A chat from today"]);
    await expect(chat.sidebar.group("Yesterday").getByTestId("chat-list-item")).toHaveText(["Asked yesterday"]);
    await expect(chat.sidebar.group("Previous 7 days").getByTestId("chat-list-item")).toHaveText([
      "Asked three days ago",
    ]);
    await expect(chat.sidebar.group("Older").getByTestId("chat-list-item")).toHaveText(["Asked last month"]);
  });
});

import { AppServer } from "./app-server";
import { StandaloneEngine } from "./engine-server";
import { ChatPage, expect, needsLocalServer, test } from "./fixtures";

// CHAT_HEAD_START=1: a new chat's first answer streams from the web server (chat.headStart) while the
// agent's run boots, and the agent answers from the second turn on.
test.describe("head start", () => {
  needsLocalServer("starts a server of its own with CHAT_HEAD_START set");
  let server: AppServer;
  test.beforeAll(async () => {
    server = await AppServer.start({ env: { CHAT_HEAD_START: "1" } });
  });
  test.afterAll(async () => {
    await server.close();
  });

  test("the first answer comes through the head start, the next from the agent, and a reload shows both", async ({
    page,
  }) => {
    const chat = new ChatPage(page);
    const paths: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST") paths.push(new URL(request.url()).pathname);
    });
    await chat.open(server.url);
    await chat.ask("Say **hello**");
    await expect(chat.sidebar.item(chat.chatId())).toHaveText("Say hello");
    await chat.ask("And now *goodbye*");
    await expect(chat.answers).toHaveCount(2);

    const chatId = chat.chatId();
    // The first message went to the head start, which started the chat; the second straight to the agent's input.
    expect(paths.filter((path) => path.startsWith("/api/"))).toEqual([`/api/chats/${chatId}/head-start`]);
    expect(paths.filter((path) => path.endsWith("/in/append"))).toHaveLength(1);
    const answers = await chat.answers.locator(".markdown").allInnerTexts();
    expect(answers[0]).toContain("hello");
    expect(answers[1]).toContain("goodbye");

    await page.reload();
    await expect(chat.answers).toHaveCount(2);
    await chat.expectComplete(0);
    await chat.expectComplete(1);
    expect(await chat.answers.locator(".markdown").allInnerTexts()).toEqual(answers);
  });

  test("a first answer the page stops reading is still written to the end and saved, with its question", async ({
    page,
  }) => {
    const chat = new ChatPage(page);
    await chat.open(server.url);
    await chat.send("Stop me");
    await chat.expectGrowing(3);
    await chat.composer.stop();
    await expect(chat.messages.stoppedMarker()).toBeVisible();

    // The web server writes the answer to the end (a reload picks it up from the chat's stream) and hands the
    // turn to the agent, which saves the question with it.
    await page.reload();
    await chat.expectComplete(0);
    await page.reload();
    await expect(chat.userMessages).toHaveText(["Stop me"]);
    await chat.expectComplete(0);
    await chat.ask("Carry on");
    await expect(chat.answers).toHaveCount(2);
  });
});

test.describe("head start in remote mode", () => {
  needsLocalServer("starts its own engine, standing in for Trigger.dev, and app server");
  test.describe.configure({ timeout: 120_000 });
  let engine: StandaloneEngine;
  let server: AppServer;
  test.beforeAll(async ({}, testInfo) => {
    testInfo.setTimeout(180_000);
    engine = await StandaloneEngine.start();
    server = await AppServer.start({
      remote: engine.remote,
      env: { CHAT_HEAD_START: "1", CHAT_MODEL: "offline:offline-chat" },
    });
  });
  test.afterAll(async () => {
    await server?.close();
    await engine?.close();
  });

  test("the web server writes the first answer into Trigger.dev's stream, and the agent there answers the next", async ({
    page,
  }) => {
    const chat = new ChatPage(page);
    const headStarts: string[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/head-start")) headStarts.push(request.url());
    });
    await chat.open(server.url);
    await chat.ask("Say **hello**");
    await chat.ask("And now *goodbye*");
    expect(headStarts).toEqual([`${server.url}/api/chats/${chat.chatId()}/head-start`]);
    const answers = await chat.answers.locator(".markdown").allInnerTexts();
    expect(answers[1]).toContain("turn 2");

    await page.reload();
    await expect(chat.answers).toHaveCount(2);
    await chat.expectComplete(1);
    expect(await chat.answers.locator(".markdown").allInnerTexts()).toEqual(answers);
  });
});

import { AppServer } from "./app-server";
import { ANSWER_END, ChatPage, expect, LONG_PROMPT, needsLocalServer, test } from "./fixtures";

// These tests kill their own server, so they never use the shared one.
test.describe("a server killed mid-answer", () => {
  needsLocalServer("kills and restarts a server of its own");
  let server: AppServer;
  test.beforeEach(async () => {
    server = await AppServer.start();
  });
  test.afterEach(async ({}, testInfo) => {
    if (testInfo.status !== testInfo.expectedStatus) await testInfo.attach("server output", { body: server.output() });
    await server.close();
  });

  test("after a restart and a reload, every turn shows once and the cut-off one is answered in full", async ({
    page,
    browserErrors,
  }) => {
    // The open tab loses its stream, then the server, until the restart.
    browserErrors.expect(
      /Failed to load resource: net::ERR_(INCOMPLETE_CHUNKED_ENCODING|CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE)/,
    );
    const chat = new ChatPage(page);
    await chat.open(server.url);
    await chat.send("Remember this");
    await chat.expectComplete();
    const firstAnswer = await chat.answer(0).innerText();

    await chat.send(LONG_PROMPT);
    await expect(chat.answers).toHaveCount(2);
    await chat.expectGrowing(2, 1);
    await expect(chat.answer(1)).not.toContainText(ANSWER_END);
    await server.kill();

    await server.start();
    await chat.recordMostMessages();
    await page.reload();

    await expect(chat.userMessages).toHaveText(["Remember this", LONG_PROMPT]);
    // The engine continues the cut-off turn in a new run, which answers it again from the start.
    await chat.expectGrowing(2);
    await chat.expectComplete();
    await expect(chat.answers).toHaveCount(2);
    await expect(chat.answer(0)).toHaveText(firstAnswer);
    const recovered = await chat.answer(1).innerText();
    expect(recovered.split("This is turn 2 of our conversation")).toHaveLength(2);
    expect(recovered.split(ANSWER_END)).toHaveLength(2);
    // Not even for a moment were the cut-off answer and the recovered one both on screen.
    expect(await chat.mostMessages()).toEqual({ user: 2, assistant: 2 });

    // What the page shows is what was saved.
    const saved = await page.request.post(`${server.url}/api/chats/${chat.chatId()}/transcript`, {
      data: {},
      headers: { Origin: server.url },
    });
    const { messages } = (await saved.json()) as { messages: { role: string }[] };
    expect(messages.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant"]);
    await page.reload();
    await expect(chat.userMessages).toHaveText(["Remember this", LONG_PROMPT]);
    await expect(chat.answers).toHaveText([firstAnswer, recovered]);
  });
});

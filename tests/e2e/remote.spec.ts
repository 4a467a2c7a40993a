import fs from "node:fs";
import type { BrowserContext, Page } from "@playwright/test";
import { AppServer } from "./app-server";
import { StandaloneEngine } from "./engine-server";
import { ANSWER_END, ChatPage, expect, LONG_PROMPT, needsLocalServer, test } from "./fixtures";

// Production's shape: the built app in remote mode, its server SDK and the browser's transport talking
// over the network to a Trigger.dev on another origin. The engine, started alone, stands in for it.
// Every stream request must go there, cross-origin under the page's CSP, and none through the app.

/** Every request a browser context makes, every answer it gets that is not a success, and every CSP violation. */
async function watchTraffic(context: BrowserContext) {
  const requests: string[] = [];
  const refusals: string[] = [];
  context.on("request", (request) => requests.push(`${request.method()} ${request.url()}`));
  context.on("response", (response) => {
    if (response.status() < 400) return;
    refusals.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (event) => {
      seen.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return { requests, refusals };
}

const cspViolations = (page: Page) =>
  page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);

test.describe("remote mode: the app on a Trigger.dev of another origin", () => {
  needsLocalServer("starts its own engine and app server");
  // Generous, for a busy machine; a passing run takes a fraction of it.
  test.describe.configure({ timeout: 120_000 });

  let engine: StandaloneEngine;
  let server: AppServer;
  test.beforeAll(async ({}, testInfo) => {
    // Two processes boot on a machine that may be busy: the engine bundles the agent and warms a worker.
    testInfo.setTimeout(180_000);
    engine = await StandaloneEngine.start();
    server = await AppServer.start({ remote: engine.remote });
  });
  test.afterEach(async ({}, testInfo) => {
    if (testInfo.status === testInfo.expectedStatus) return;
    await testInfo.attach("engine output", { body: engine?.output() ?? "" });
    await testInfo.attach("server output", { body: server?.output() ?? "" });
  });
  test.afterAll(async () => {
    await server?.close();
    await engine?.close();
  });

  test("a chat streams from the engine's origin, picks up after a reload, and is listed and private", async ({
    page,
    context,
    newVisitor,
    browserErrors,
  }) => {
    const { requests, refusals } = await watchTraffic(context);
    const chat = new ChatPage(page);
    const opened = await page.goto(`${server.url}/`);
    expect(opened?.headers()["content-security-policy"]).toMatch(new RegExp(`connect-src 'self' ${engine.origin};`));
    await chat.composer.hydrated();

    await chat.composer.send(LONG_PROMPT);
    await chat.messages.expectGrowing(2);
    await expect(chat.messages.answer()).not.toContainText(ANSWER_END);
    await chat.messages.recordMostMessages();
    await page.reload();

    await expect(chat.messages.user).toHaveText([LONG_PROMPT]);
    await chat.messages.expectGrowing(2);
    await chat.messages.waitForAnswer();
    await expect(chat.messages.answers).toHaveCount(1);
    const answer = await chat.messages.answer().innerText();
    expect(answer.split("This is turn 1 of our conversation")).toHaveLength(2);
    expect(answer.split(ANSWER_END)).toHaveLength(2);
    expect(await chat.messages.mostMessages()).toEqual({ user: 1, assistant: 1 });

    const chatId = chat.chatId();
    await expect(chat.sidebar.item(chatId)).toContainText(LONG_PROMPT.slice(0, 40));

    // The browser sent the message to the engine and read the answer from it, both times.
    const streams = `${engine.origin}/realtime/v1/sessions/${chatId}`;
    expect(requests).toContainEqual(`POST ${streams}/in/append`);
    expect(requests.filter((request) => request.startsWith(`GET ${streams}/out`)).length).toBeGreaterThanOrEqual(2);
    expect(requests.filter((request) => request.includes("/local-trigger"))).toEqual([]);
    expect(requests.filter((request) => request.includes(`${server.url}/realtime/`))).toEqual([]);
    // The app has no engine of its own to take a shortcut through: no mount, and nothing in its data folder.
    expect((await page.request.get(`${server.url}/local-trigger/api/v1/sessions/${chatId}`)).status()).toBe(404);
    expect(fs.existsSync(server.dataDir) ? fs.readdirSync(server.dataDir) : []).toEqual([]);
    // The chat lives on the engine, owned through the tag the app gave it.
    const session = await page.request.get(`${engine.url}/api/v1/sessions/${chatId}`, {
      headers: { Authorization: `Bearer ${engine.secretKey}` },
    });
    expect(session.status()).toBe(200);
    expect(((await session.json()) as { tags: string[] }).tags).toEqual([expect.stringMatching(/^guest:/)]);

    const visitor = await newVisitor();
    const intruder = new ChatPage(await visitor.newPage());
    browserErrors.expect(/Failed to load resource: the server responded with a status of 404/);
    const denied = await intruder.openChat(chatId, server.url);
    expect(denied?.status()).toBe(404);
    await expect(intruder.errors.notFound).toBeVisible();
    await expect(intruder.page.locator("body")).not.toContainText(LONG_PROMPT);
    const token = await visitor.request.post(`${server.url}/api/chats/${chatId}/token`, {
      data: {},
      headers: { Origin: server.url },
    });
    expect(token.status()).toBe(404);
    expect(await cspViolations(page)).toEqual([]);

    // Deleting closes the session on the engine: the chat leaves the list and its page is gone, for its owner too.
    await chat.sidebar.deleteChat(LONG_PROMPT.slice(0, 40));
    await expect(chat.sidebar.items).toHaveCount(0);
    expect((await chat.openChat(chatId, server.url))?.status()).toBe(404);
    await expect(chat.errors.notFound).toBeVisible();
    // Nothing else the owner's browser asked for was refused, by the app or the engine.
    expect(refusals).toEqual([`404 GET ${server.url}/chat/${chatId}`]);
  });

  test("Stop halts the agent on the engine, and the answer stays stopped after a reload", async ({ page, context }) => {
    const { requests, refusals } = await watchTraffic(context);
    const chat = new ChatPage(page);
    await chat.open(server.url);
    await chat.composer.hydrated();
    await chat.composer.send(LONG_PROMPT);
    await chat.messages.expectGrowing(3);

    await chat.composer.stop();
    const marker = chat.messages.stoppedMarker();
    await expect(marker).toContainText("Stopped");
    // The stop travelled to the engine, on the chat's input stream after the message (the page may send it twice).
    const chatId = chat.chatId();
    const append = `POST ${engine.origin}/realtime/v1/sessions/${chatId}/in/append`;
    const appends = requests.filter((request) => request === append);
    expect(appends.length).toBeGreaterThanOrEqual(2);

    // The agent saves the stopped turn, and the page then shows what was saved; from then on nothing
    // more arrives, live or after a reload.
    const saved = async () => {
      const response = await page.request.post(`${server.url}/api/chats/${chatId}/transcript`, {
        data: {},
        headers: { Origin: server.url },
      });
      const { messages } = (await response.json()) as { messages: { role: string }[] };
      return messages.map((message) => message.role);
    };
    await expect.poll(saved, { timeout: 30_000 }).toEqual(["user", "assistant"]);
    const settled = async () => chat.messages.expectFrozen(await chat.messages.answerLength());
    await expect(settled).toPass({ timeout: 30_000 });
    const live = await chat.messages.answers.allInnerTexts();
    expect(live[0]).not.toContain(ANSWER_END);

    await page.reload();
    await chat.composer.hydrated();
    await expect(marker).toContainText("Stopped");
    const shown = () => chat.messages.answers.allInnerTexts();
    await expect.poll(shown).toEqual(live);
    await chat.messages.expectFrozen(await chat.messages.answerLength());
    expect(await shown()).toEqual(live);
    await expect(chat.composer.stopButton).toBeHidden();
    expect(await cspViolations(page)).toEqual([]);
    expect(refusals).toEqual([]);
  });

  test("a tool call waiting for approval survives a reload, and a message queued mid-answer is answered", async ({
    page,
    context,
  }) => {
    const { refusals } = await watchTraffic(context);
    const chat = new ChatPage(page);
    await chat.open(server.url);
    await chat.composer.hydrated();
    await chat.composer.send("calculate 12 * (3 + 4)");
    const card = chat.messages.answer().locator('[data-testid="tool-call"][data-tool="calculate"]');
    await expect(card).toHaveAttribute("data-state", "approval-requested", { timeout: 30_000 });

    await page.reload();
    await chat.composer.hydrated();
    await card.getByRole("button", { name: "Approve" }).click();
    await expect(card.getByTestId("tool-output")).toHaveText("84", { timeout: 30_000 });
    await chat.messages.waitForAnswer();

    await chat.composer.send(LONG_PROMPT);
    await chat.messages.expectGrowing(2);
    await chat.composer.input.fill("Queued from afar");
    await chat.composer.input.press("Enter");
    await expect(page.getByTestId("queued-message")).toContainText("Queued");
    await expect(chat.messages.answers).toHaveCount(3, { timeout: 30_000 });
    await chat.messages.waitForAnswer();
    await expect(chat.messages.answer().locator("blockquote")).toHaveText("Queued from afar");
    expect(await cspViolations(page)).toEqual([]);
    expect(refusals).toEqual([]);
  });
});

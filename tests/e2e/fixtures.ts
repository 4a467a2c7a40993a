import {
  type APIRequestContext,
  type APIResponse,
  type BrowserContext,
  expect,
  type Locator,
  type Page,
  test as base,
} from "@playwright/test";
import { e2eTarget, OFFLINE_MODEL } from "./target";

/** Collects uncaught page errors and console errors; any the test did not expect fail it. */
class ErrorWatch {
  private readonly found: string[] = [];
  private readonly expected: RegExp[] = [];
  private readonly watched = new WeakSet<Page>();

  watchContext(context: BrowserContext) {
    context.on("page", (page) => this.watchPage(page));
    for (const page of context.pages()) this.watchPage(page);
  }

  private watchPage(page: Page) {
    if (this.watched.has(page)) return;
    this.watched.add(page);
    page.on("pageerror", (error) => this.found.push(`pageerror on ${page.url()}: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") this.found.push(`console.error on ${page.url()}: ${message.text()}`);
    });
  }

  /** For errors that are the point of the test, such as the browser logging a 404 page load. */
  expect(pattern: RegExp) {
    this.expected.push(pattern);
  }

  assertNone() {
    const unexpected = this.found.filter((error) => !this.expected.some((pattern) => pattern.test(error)));
    expect(unexpected, "errors in the browser").toEqual([]);
  }
}

type Fixtures = {
  browserErrors: ErrorWatch;
  /** POSTs JSON to one of the app's API routes as its own pages do (same Origin), with a context's cookies. */
  apiPost: (request: APIRequestContext, path: string, data?: unknown) => Promise<APIResponse>;
  /** A second, unrelated visitor: its own browser context, so its own guest cookie. */
  newVisitor: () => Promise<BrowserContext>;
};

export const test = base.extend<Fixtures>({
  browserErrors: [
    async ({ context }, use) => {
      const watch = new ErrorWatch();
      watch.watchContext(context);
      await use(watch);
      watch.assertNone();
    },
    { auto: true },
  ],
  apiPost: async ({ baseURL }, use) => {
    const origin = new URL(baseURL!).origin;
    await use((request, path, data = {}) => request.post(path, { data, headers: { Origin: origin } }));
  },
  newVisitor: async ({ browser, browserErrors }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async () => {
      const context = await browser.newContext();
      browserErrors.watchContext(context);
      contexts.push(context);
      return context;
    });
    await Promise.all(contexts.map((context) => context.close()));
  },
});

export { expect };

/*
 * Page objects for the chat page. Each one wraps a part of the page in the
 * locators and steps a test needs, so a test reads as what a visitor does:
 *
 *   const chat = new ChatPage(page);
 *   await chat.open();
 *   await chat.composer.send("Hello");
 *   await chat.messages.waitForAnswer();
 *   await expect(chat.sidebar.items).toHaveText(["Hello"]);
 *
 * Steps that only make sense with the offline model (its words, its pace) say
 * so; call `needsOfflineModel()` in tests that use them. ChatPage keeps
 * shortcuts (`send`, `answer`, `input`, ...) that the older specs use.
 */

export const CHAT_URL = /\/chat\/[0-9a-f-]{36}$/;
/** The last line of every offline-model answer: seeing it means the answer is complete. */
export const ANSWER_END = "Restart the agent and send another message.";
/** A prompt the offline model quotes in full, which makes its answer as long as it gets. */
export const LONG_PROMPT =
  "Please describe in some detail how a durable chat stream survives a page reload and keeps every word in the right order";
/** How long an answer may take to finish: a real model on a deployment is slower than the offline one. */
export const ANSWER_TIMEOUT_MS = usesOfflineModel() ? 30_000 : 90_000;

/** Whether the offline model answers: always on the suite's own servers, on a deployment when E2E_MODEL says so. */
export function usesOfflineModel() {
  return e2eTarget.model === OFFLINE_MODEL;
}

/**
 * Skips the test, or every test of the describe block it is called in, when
 * the suite runs against a deployment (E2E_BASE_URL): for tests that start,
 * kill or reconfigure servers of their own, or read the server's data folder.
 */
export function needsLocalServer(why: string) {
  const deployed = e2eTarget.deploymentURL !== undefined;
  test.skip(deployed, `Needs a server the suite starts itself: it ${why}. E2E_BASE_URL is set.`);
}

/**
 * Skips the test, or every test of the describe block it is called in, when
 * a model other than the offline one answers (E2E_MODEL): for tests that check
 * the offline model's words, or rely on its pace or the length of its answers.
 */
export function needsOfflineModel(why = "checks the offline model's words") {
  test.skip(!usesOfflineModel(), `Needs the offline model: it ${why}. E2E_MODEL says ${e2eTarget.model} answers.`);
}

/** The message box at the foot of a chat, with its Send and Stop buttons. */
export class Composer {
  readonly input: Locator;
  readonly sendButton: Locator;
  readonly stopButton: Locator;
  /** The line above the box that says why Enter did not send, such as "still being written". */
  readonly hint: Locator;

  constructor(readonly page: Page) {
    this.input = page.getByRole("textbox", { name: "Message" });
    this.sendButton = page.getByRole("button", { name: "Send message" });
    this.stopButton = page.getByRole("button", { name: "Stop generating" });
    this.hint = page.getByTestId("composer-hint");
  }

  /** Waits until the page has hydrated: the composer takes the focus when it has (on a desktop browser). */
  async hydrated() {
    await expect(this.input).toBeFocused();
  }

  /** Types and sends with Enter, once the page has hydrated (until then the Send button stays disabled). */
  async send(text: string) {
    await expect(async () => {
      await this.input.fill(text);
      await expect(this.sendButton).toBeEnabled({ timeout: 500 });
    }).toPass();
    await this.input.press("Enter");
    await expect(this.input).toHaveValue("");
  }

  /** Stops the answer being written, and waits until the page offers Send again. */
  async stop() {
    await this.stopButton.click();
    await expect(this.sendButton).toBeVisible();
  }
}

/** The conversation: the visitor's messages and the agent's answers, oldest first. */
export class Messages {
  readonly user: Locator;
  readonly answers: Locator;
  /** The dots shown while the agent has not written its first word. */
  readonly typingIndicator: Locator;

  constructor(readonly page: Page) {
    this.user = page.getByTestId("message-user");
    this.answers = page.getByTestId("message-assistant");
    this.typingIndicator = page.getByTestId("typing-indicator");
  }

  /** The ids of the messages on screen, oldest first: a replaced answer has a new one. */
  ids() {
    return this.page
      .getByRole("list", { name: "Conversation" })
      .locator(":scope > li[data-message-id]")
      .evaluateAll((items) => items.map((item) => item.getAttribute("data-message-id")!));
  }

  /** Edits one of the visitor's messages and sends it: what followed it is replaced by a new answer. */
  async edit(index: number, text: string) {
    const message = this.user.nth(index);
    await message.hover();
    await message.getByRole("button", { name: "Edit message" }).click();
    const box = message.getByRole("textbox", { name: "Edited message" });
    await box.fill(text);
    await box.press("Enter");
  }

  /** Writes one answer again, in its place: the conversation after it goes. */
  async regenerate(index = -1) {
    const answer = this.answer(index);
    await answer.hover();
    await answer.getByRole("button", { name: "Regenerate answer" }).click();
  }

  /** Takes back the last exchange. */
  async undo() {
    const answer = this.answer();
    await answer.hover();
    await answer.getByRole("button", { name: "Undo this exchange" }).click();
  }

  /** One answer; the last by default. */
  answer(index = -1) {
    return index === -1 ? this.answers.last() : this.answers.nth(index);
  }

  /** The "Stopped" line under a stopped answer, with its Continue and Regenerate buttons. */
  stoppedMarker(index = -1) {
    return this.answer(index).getByTestId("stopped-marker");
  }

  /**
   * How much of the answer's text is on screen: its words only, not the actions and marks around them. An
   * answer with tool calls has a text block before and after each; the last is the one being written.
   */
  async answerLength(index = -1) {
    return (await this.answer(index).locator(".markdown").last().innerText()).length;
  }

  /**
   * Waits until the answer is complete, whatever model writes it: it has
   * words, no longer streams, and was not stopped. With the offline model it
   * also checks the answer's last line and its badge.
   */
  async waitForAnswer(index = -1) {
    const answer = this.answer(index);
    if (usesOfflineModel()) await expect(answer).toContainText(ANSWER_END, { timeout: ANSWER_TIMEOUT_MS });
    await expect(answer).toHaveAttribute("data-streaming", "false", { timeout: ANSWER_TIMEOUT_MS });
    await expect(this.page.getByRole("button", { name: "Stop generating" })).toBeHidden({ timeout: ANSWER_TIMEOUT_MS });
    await expect(answer.locator(".markdown").last()).not.toBeEmpty();
    await expect(answer.getByTestId("stopped-marker")).toHaveCount(0);
    if (usesOfflineModel()) await expect(answer.getByTestId("offline-badge")).toHaveText("Offline demo model");
  }

  /** Waits until the answer has grown `steps` times, each time past the previous length. */
  async expectGrowing(steps: number, index = -1) {
    let length = 0;
    for (let step = 0; step < steps; step++) {
      await expect.poll(() => this.answerLength(index), { intervals: [50] }).toBeGreaterThan(length);
      length = await this.answerLength(index);
    }
    return length;
  }

  /** Asserts that no text arrives for a while: long enough for several of the offline model's words. */
  async expectFrozen(length: number, index = -1) {
    await this.page.waitForTimeout(1_500);
    expect(await this.answerLength(index)).toBe(length);
  }

  /**
   * From the next page load on, records the most user and assistant messages
   * the page showed at once, on every change to the page, so a duplicate that
   * is shown and later removed is caught too. Read it with `mostMessages`.
   */
  async recordMostMessages() {
    await this.page.addInitScript(() => {
      const most = { user: 0, assistant: 0 };
      Object.assign(window, { __mostMessages: most });
      new MutationObserver(() => {
        most.user = Math.max(most.user, document.querySelectorAll('[data-testid="message-user"]').length);
        most.assistant = Math.max(
          most.assistant,
          document.querySelectorAll('[data-testid="message-assistant"]').length,
        );
      }).observe(document, { childList: true, subtree: true });
    });
  }

  mostMessages() {
    return this.page.evaluate(
      () => (window as unknown as { __mostMessages: { user: number; assistant: number } }).__mostMessages,
    );
  }
}

/** The list of the visitor's chats, newest first, with New chat and Delete. On a phone it is a drawer. */
export class Sidebar {
  /** The sidebar's landmark, for assertions on all of it. */
  readonly root: Locator;
  /** One entry per chat, titled by its first message. */
  readonly items: Locator;
  readonly newChatLink: Locator;
  readonly showMoreButton: Locator;
  /** The header's menu button that opens the drawer on a narrow screen. */
  readonly openButton: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByRole("navigation", { name: "Chats" });
    this.items = this.root.getByTestId("chat-list-item");
    this.newChatLink = this.root.getByRole("link", { name: "New chat" });
    this.showMoreButton = this.root.getByRole("button", { name: "Show more" });
    this.openButton = page.getByRole("button", { name: "Open sidebar" });
  }

  /** The search box over all of the visitor's chats. */
  get search() {
    return this.root.getByRole("searchbox", { name: "Search chats" });
  }

  /** The date groups' headings, in order (Today, Yesterday, Previous 7 days, Older). */
  get groupHeadings() {
    return this.root.getByTestId("chat-group").getByRole("heading");
  }

  /** The titles listed under one date group. */
  group(label: string) {
    return this.root.getByTestId("chat-group").filter({ has: this.page.getByRole("heading", { name: label }) });
  }

  /** Renames a chat from the list, and waits for the new title to be listed. */
  async renameChat(title: string, newTitle: string) {
    const item = this.items.filter({ hasText: title });
    await item.hover();
    await item.getByRole("button", { name: `Rename chat “${title}”` }).click();
    const box = this.root.getByRole("textbox", { name: "Chat title" });
    await box.fill(newTitle);
    await box.press("Enter");
    await expect(this.items.filter({ hasText: newTitle })).toHaveCount(1);
  }

  /** The entry of one chat, by its id. */
  item(chatId: string) {
    return this.root.locator(`[data-testid="chat-list-item"][data-chat-id="${chatId}"]`);
  }

  /** Opens a chat by its title, as a click in the list does. */
  async openChat(title: string) {
    await this.items.getByRole("link", { name: title }).click();
  }

  async newChat() {
    await this.newChatLink.click();
    await expect(this.page).toHaveURL(CHAT_URL);
  }

  /** Deletes a chat by its title, confirming in the dialog, and waits until it has left the list. */
  async deleteChat(title: string) {
    const item = this.items.filter({ hasText: title });
    await item.getByRole("button", { name: /Delete chat/ }).click();
    await this.page.getByRole("dialog", { name: "Delete chat?" }).getByRole("button", { name: "Delete" }).click();
    await expect(item).toHaveCount(0);
  }
}

/** What the page says when something goes wrong, or may: errors with Retry, notices and announcements. */
export class ChatErrors {
  /** The error under the conversation, such as a refused or failed send. */
  readonly alert: Locator;
  readonly retryButton: Locator;
  /** The notice above the composer: offline, or no word for a while. */
  readonly connectionNotice: Locator;
  /** The screen-reader announcement of the chat's state ("Answer stopped.", "You’re offline..."). */
  readonly status: Locator;
  /** The page of a chat that does not exist, was deleted, or belongs to someone else. */
  readonly notFound: Locator;
  /** The page of a chat that could not be loaded for any other reason. */
  readonly loadFailed: Locator;

  constructor(readonly page: Page) {
    this.alert = page.getByTestId("chat-error");
    this.retryButton = this.alert.getByRole("button", { name: "Retry the last message" });
    this.connectionNotice = page.getByTestId("connection-notice");
    this.status = page.getByTestId("chat-status");
    this.notFound = page.getByTestId("chat-not-found");
    this.loadFailed = page.getByTestId("chat-failed");
  }

  /** Clicks Retry under the error, and waits for the error to go. */
  async retry() {
    await this.retryButton.click();
    await expect(this.alert).toBeHidden();
  }
}

/** One chat page: its composer, messages, sidebar and errors, plus steps that span them. */
export class ChatPage {
  readonly composer: Composer;
  readonly messages: Messages;
  readonly sidebar: Sidebar;
  readonly errors: ChatErrors;

  constructor(readonly page: Page) {
    this.composer = new Composer(page);
    this.messages = new Messages(page);
    this.sidebar = new Sidebar(page);
    this.errors = new ChatErrors(page);
  }

  /** Opens a brand-new chat; / redirects to one. `origin` is for a server other than the suite's. */
  async open(origin = "") {
    await this.page.goto(`${origin}/`);
    await expect(this.page).toHaveURL(CHAT_URL);
  }

  /** Opens one chat by its id. */
  async openChat(chatId: string, origin = "") {
    return this.page.goto(`${origin}/chat/${chatId}`);
  }

  /** The id of the chat on screen, from its address. */
  chatId() {
    return new URL(this.page.url()).pathname.split("/").at(-1)!;
  }

  /** Sends a message and waits for the whole answer. */
  async ask(text: string) {
    const answers = await this.messages.answers.count();
    await this.composer.send(text);
    await expect(this.messages.answers).toHaveCount(answers + 1, { timeout: ANSWER_TIMEOUT_MS });
    await this.messages.waitForAnswer();
  }

  // Shortcuts to the page objects, as the older specs use them.
  get input() {
    return this.composer.input;
  }
  get sendButton() {
    return this.composer.sendButton;
  }
  get stopButton() {
    return this.composer.stopButton;
  }
  get userMessages() {
    return this.messages.user;
  }
  get answers() {
    return this.messages.answers;
  }
  hydrated() {
    return this.composer.hydrated();
  }
  send(text: string) {
    return this.composer.send(text);
  }
  answer(index = -1) {
    return this.messages.answer(index);
  }
  answerLength(index = -1) {
    return this.messages.answerLength(index);
  }
  expectGrowing(steps: number, index = -1) {
    return this.messages.expectGrowing(steps, index);
  }
  expectComplete(index = -1) {
    return this.messages.waitForAnswer(index);
  }
  expectFrozen(length: number, index = -1) {
    return this.messages.expectFrozen(length, index);
  }
  recordMostMessages() {
    return this.messages.recordMostMessages();
  }
  mostMessages() {
    return this.messages.mostMessages();
  }
}

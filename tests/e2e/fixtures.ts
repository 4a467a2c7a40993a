import { type APIRequestContext, type APIResponse, type BrowserContext, expect, type Locator, type Page, test as base } from "@playwright/test";

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

export const CHAT_URL = /\/chat\/[0-9a-f-]{36}$/;
/** The last line of every offline-model answer: seeing it means the answer is complete. */
export const ANSWER_END = "Restart the agent and send another message.";
/** A prompt the offline model quotes in full, which makes its answer as long as it gets. */
export const LONG_PROMPT =
  "Please describe in some detail how a durable chat stream survives a page reload and keeps every word in the right order";

export class ChatPage {
  readonly input: Locator;
  readonly sendButton: Locator;
  readonly stopButton: Locator;
  readonly userMessages: Locator;
  readonly answers: Locator;
  readonly sidebar: Locator;

  constructor(readonly page: Page) {
    this.input = page.getByRole("textbox", { name: "Message" });
    this.sendButton = page.getByRole("button", { name: "Send message" });
    this.stopButton = page.getByRole("button", { name: "Stop generating" });
    this.userMessages = page.getByTestId("message-user");
    this.answers = page.getByTestId("message-assistant");
    this.sidebar = page.getByRole("navigation", { name: "Chats" });
  }

  /** Opens a brand-new chat; / redirects to one. `origin` is for a server other than the shared one. */
  async open(origin = "") {
    await this.page.goto(`${origin}/`);
    await expect(this.page).toHaveURL(CHAT_URL);
  }

  /** Waits until the page has hydrated: the composer takes the focus when it has (on a desktop browser). */
  async hydrated() {
    await expect(this.input).toBeFocused();
  }

  chatId() {
    return new URL(this.page.url()).pathname.split("/").at(-1)!;
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

  answer(index = -1) {
    return index === -1 ? this.answers.last() : this.answers.nth(index);
  }

  /** How much of the answer's text is on screen: its words only, not the actions and marks around them. */
  async answerLength(index = -1) {
    return (await this.answer(index).locator(".markdown").innerText()).length;
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

  async expectComplete(index = -1) {
    await expect(this.answer(index)).toContainText(ANSWER_END);
    await expect(this.stopButton).toBeHidden();
    await expect(this.answer(index).getByTestId("offline-badge")).toHaveText("Offline demo model");
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
        most.assistant = Math.max(most.assistant, document.querySelectorAll('[data-testid="message-assistant"]').length);
      }).observe(document, { childList: true, subtree: true });
    });
  }

  mostMessages() {
    return this.page.evaluate(() => (window as unknown as { __mostMessages: { user: number; assistant: number } }).__mostMessages);
  }

  /** Asserts that no text arrives for a while: long enough for several of the model's words. */
  async expectFrozen(length: number, index = -1) {
    await this.page.waitForTimeout(1_500);
    expect(await this.answerLength(index)).toBe(length);
  }
}

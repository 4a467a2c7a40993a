import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { type APIResponse, type BrowserContext } from "@playwright/test";
import { ChatPage, expect, needsLocalServer, test } from "./fixtures";

const SECURITY_HEADERS = {
  "content-security-policy": /default-src 'self'.*frame-ancestors 'none'/,
  "x-content-type-options": /^nosniff$/,
  "x-frame-options": /^DENY$/,
  "referrer-policy": /^same-origin$/,
  "strict-transport-security": /^max-age=\d+/,
};

function expectSecurityHeaders(response: APIResponse, what: string) {
  const headers = response.headers();
  for (const [name, pattern] of Object.entries(SECURITY_HEADERS))
    expect(headers[name], `${name} on ${what}`).toMatch(pattern);
}

/**
 * An attacker's page on another origin of this machine. It attacks the app
 * from the victim's browser every way a page can without reading the app's
 * answers, then sets its title to "done".
 */
function attackerPage(appURL: string, victimChatId: string) {
  const target = (path: string) => `${appURL}${path}`;
  const newChat = () => randomUUID();
  return `<!doctype html><title>attacking</title>
<iframe name="sink" hidden></iframe>
<form id="delete" method="post" target="sink" action="${target(`/api/chats/${victimChatId}/delete`)}"></form>
<form id="start" method="post" target="sink" enctype="text/plain" action="${target(`/api/chats/${newChat()}/session`)}">
  <input name='{"title":"injected","x":"' value='"}'>
</form>
<form id="transcript" method="post" target="sink" action="${target(`/api/chats/${victimChatId}/transcript`)}"><input name="before" value="x"></form>
<script>
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const attempts = [
    () => document.getElementById("delete").submit(),
    () => document.getElementById("start").submit(),
    () => document.getElementById("transcript").submit(),
    () => fetch(${JSON.stringify(target(`/api/chats/${victimChatId}/delete`))}, { method: "POST", mode: "no-cors", credentials: "include" }),
    () => fetch(${JSON.stringify(target(`/api/chats/${newChat()}/session`))}, { method: "POST", mode: "no-cors", credentials: "include", headers: { "Content-Type": "text/plain" }, body: '{"title":"injected"}' }),
    () => fetch(${JSON.stringify(target(`/api/chats/${newChat()}/session`))}, { method: "POST", credentials: "include", headers: { "Content-Type": "text/plain" }, body: '{"title":"injected"}' }),
    () => fetch(${JSON.stringify(target(`/api/chats/${victimChatId}/token`))}, { method: "POST", credentials: "include" }),
    () => fetch(${JSON.stringify(target(`/local-trigger/realtime/v1/sessions/${victimChatId}/in/append`))}, { method: "POST", mode: "no-cors", credentials: "include", headers: { "Content-Type": "text/plain" }, body: '{"kind":"message"}' }),
  ];
  (async () => {
    for (const attempt of attempts) {
      try { await attempt(); } catch {}
      await wait(300);
    }
    document.title = "done";
  })();
</script>`;
}

async function serveAttacker(html: () => string) {
  const server = http.createServer((_, response) =>
    response.writeHead(200, { "Content-Type": "text/html" }).end(html()),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(resolve)) };
}

const guestCookie = async (context: BrowserContext) =>
  (await context.cookies()).find((cookie) => cookie.name === "__Host-guest" && cookie.path === "/")?.value;

test.describe("security", () => {
  for (const [kind, host] of [
    ["a same-site page on another port", "127.0.0.1"],
    ["a cross-site page", "localhost"],
  ] as const) {
    test(`${kind} can neither change a chat nor replace the visitor's cookie`, async ({
      page,
      context,
      baseURL,
      apiPost,
      browserErrors,
    }) => {
      if (host === "127.0.0.1") needsLocalServer("serves the attacker on another port of the app's host name");
      // The attacker's own page logs its failures: the refused requests and the app refusing to be framed.
      browserErrors.expect(/Failed to load resource|blocked by CORS policy|frame-ancestors/);
      const chat = new ChatPage(page);
      await chat.open();
      await chat.send("Attack me if you can");
      await chat.expectComplete();
      const victimChatId = chat.chatId();
      const cookieBefore = await guestCookie(context);
      expect(cookieBefore).toBeTruthy();

      const attacker = await serveAttacker(() => attackerPage(baseURL!, victimChatId));
      try {
        const attackPage = await context.newPage();
        await attackPage.goto(`http://${host}:${attacker.port}/`);
        await expect(attackPage).toHaveTitle("done", { timeout: 20_000 });
        await attackPage.close();
      } finally {
        await attacker.close();
      }

      expect(await guestCookie(context), "the guest cookie").toBe(cookieBefore);
      const list = await apiPost(page.request, "/api/chats");
      expect(
        (await list.json()).chats.map((listed: { id: string; title: string }) => [listed.id, listed.title]),
      ).toEqual([[victimChatId, "Attack me if you can"]]);
      await page.reload();
      await expect(chat.userMessages).toHaveText(["Attack me if you can"]);
      await expect(chat.answers).toHaveCount(1);
      await chat.send("Still here?");
      await expect(chat.answers).toHaveCount(2);
      await chat.expectComplete();
    });
  }

  test("a page on another port cannot shadow the visitor's cookie with its own for a narrower path", async ({
    page,
    context,
    apiPost,
    newVisitor,
    browserErrors,
  }) => {
    needsLocalServer("plants cookies from another port of the app's host name");
    browserErrors.expect(/ERR_CONNECTION_RESET|Failed to load resource/);
    // The attacker gets a validly signed cookie of their own, for a chat of their own.
    const attacker = await newVisitor();
    expect((await apiPost(attacker.request, `/api/chats/${randomUUID()}/session`)).status()).toBe(200);
    const attackerCookie = await guestCookie(attacker);
    expect(attackerCookie).toBeTruthy();

    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("My first chat");
    await chat.expectComplete();
    const cookieBefore = await guestCookie(context);

    // Cookies are scoped by host, not port: a page on another port of this host plants copies for /api/chats.
    const planted = ["__Host-guest", "guest"].map(
      (name) => `${name}=${attackerCookie}; Path=/api/chats; Secure; HttpOnly; SameSite=Lax`,
    );
    const server = http.createServer((_, response) =>
      response.writeHead(200, { "Content-Type": "text/html", "Set-Cookie": planted }).end("<title>done</title>"),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      await (await context.newPage()).goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }

    expect(await guestCookie(context)).toBe(cookieBefore);
    await chat.open();
    await chat.send("A secret for my eyes only");
    await chat.expectComplete();
    const attackerList = (await (await apiPost(attacker.request, "/api/chats")).json()) as {
      chats: { title: string }[];
    };
    expect(attackerList.chats.map((listed) => listed.title)).not.toContain("A secret for my eyes only");
    const victimList = (await (await apiPost(page.request, "/api/chats")).json()) as { chats: { title: string }[] };
    expect(victimList.chats.map((listed) => listed.title)).toEqual(["A secret for my eyes only", "My first chat"]);
  });

  test("a request whose body stops arriving is given up on, not held open", async ({ baseURL }) => {
    needsLocalServer("writes raw HTTP to the server's port");
    const { hostname, port } = new URL(baseURL!);
    const socket = net.connect(Number(port), hostname);
    await new Promise((resolve) => socket.once("connect", resolve));
    const closed = new Promise<string>((resolve) => {
      let answer = "";
      socket.on("data", (chunk) => (answer += chunk));
      socket.once("close", () => resolve(answer));
    });
    socket.write(
      `POST /api/chats/${randomUUID()}/session HTTP/1.1\r\nHost: ${hostname}:${port}\r\nOrigin: ${baseURL}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"title":`,
    );
    // Node's default would hold it for 5 minutes; the server gives a request 15 s to arrive whole.
    const answer = await Promise.race([
      closed,
      new Promise<string>((resolve) => setTimeout(() => resolve("still open"), 40_000)),
    ]);
    socket.destroy();
    expect(answer).not.toBe("still open");
  });

  test("the chat works under the page's Content-Security-Policy with no violation", async ({ page }) => {
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener("securitypolicyviolation", (event) =>
        seen.push(
          `${event.violatedDirective} ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`,
        ),
      );
    });
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("Show me **markdown** and `code`:\n\n```js\nconsole.log(1)\n```");
    await chat.expectComplete();
    await page.reload();
    await chat.expectComplete();
    await page.goto("/");
    await expect(page).toHaveURL(/\/chat\//);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  });

  test("every page and API response carries the security headers", async ({
    page,
    request,
    apiPost,
    browserErrors,
  }) => {
    browserErrors.expect(/Failed to load resource/);
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("Headers please");
    await chat.expectComplete();
    const chatId = chat.chatId();

    const responses: [string, APIResponse][] = [
      ["the home redirect", await page.request.get("/", { maxRedirects: 0 })],
      ["the chat page", await page.request.get(`/chat/${chatId}`)],
      ["the chat page's data", await page.request.get(`/chat/${chatId}.data`)],
      ["a malformed chat address", await request.get("/chat/not-a-chat")],
      ["an address no route matches", await request.get("/no-such-page")],
      ["data for an address no route matches", await request.get("/no-such-page.data")],
      ["a missing asset", await request.get("/assets/no-such-file.js")],
      ["a method the server does not serve", await request.fetch("/", { method: "TRACE" })],
      ["a foreign chat page", await request.get(`/chat/${randomUUID()}`)],
      ["the chat list", await apiPost(page.request, "/api/chats")],
      ["a transcript", await apiPost(page.request, `/api/chats/${chatId}/transcript`)],
      ["a token", await apiPost(page.request, `/api/chats/${chatId}/token`)],
      [
        "a refused cross-site POST",
        await request.post(`/api/chats/${chatId}/delete`, { headers: { Origin: "https://evil.example" } }),
      ],
      ["a 405", await request.get(`/api/chats/${chatId}/token`)],
      ["the engine's mount", await request.get(`/local-trigger/api/v1/sessions/${chatId}`)],
    ];
    for (const [what, response] of responses) expectSecurityHeaders(response, what);
    expect(responses.find(([what]) => what === "a refused cross-site POST")![1].status()).toBe(403);
    expect(responses.find(([what]) => what === "a method the server does not serve")![1].status()).toBe(405);
    // The not-found page's scripts carry the nonce its CSP names, so it still runs.
    const notFound = responses.find(([what]) => what === "an address no route matches")![1];
    const nonce = /'nonce-([^']+)'/.exec(notFound.headers()["content-security-policy"]!)?.[1];
    expect(await notFound.text()).toContain(`<script nonce="${nonce}"`);
    expect((await page.request.get(`/chat/${chatId}`)).headers()["cache-control"]).toContain("no-store");

    const asset = (await (await page.request.get(`/chat/${chatId}`)).text()).match(/"(\/assets\/[^"]+\.js)"/)?.[1];
    expect(asset).toBeTruthy();
    expect((await request.get(asset!)).headers()["x-content-type-options"]).toBe("nosniff");
  });
});

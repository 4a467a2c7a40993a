import { PassThrough } from "node:stream";
import { createReadableStreamFromReadable } from "@react-router/node";
import { isbot } from "isbot";
import type { RenderToPipeableStreamOptions } from "react-dom/server";
import { renderToPipeableStream } from "react-dom/server";
import type { EntryContext, HandleErrorFunction, RouterContextProvider } from "react-router";
import { isRouteErrorResponse, ServerRouter } from "react-router";
import { loadMarkdown } from "./components/chat/message-list";
import { getServerEnv } from "./lib/env.server";
import { getGuestCookie } from "./lib/guest.server";
import { logger } from "./lib/logger.server";
import { connectRedis } from "./lib/redis.server";
import { NonceContext } from "./lib/nonce";
import { nonceContext } from "./lib/request-context";
import { connectTrigger } from "./lib/trigger.server";
import { StartupError } from "./local-trigger/storage/secrets.server";

// At boot, not on the first request: a bad environment or a damaged data folder
// stops the server with a message that says what to fix, and the local engine's
// warm workers are ready before anyone chats.
try {
  getServerEnv();
  await connectTrigger();
  getGuestCookie();
  await connectRedis();
  // Answers are rendered as markdown on the server, so the renderer the browser fetches lazily is loaded here.
  await loadMarkdown();
} catch (error) {
  if (!(error instanceof StartupError)) throw error;
  logger("server").fatal(`Cannot start: ${error.message}`);
  process.exit(1);
}

export const streamTimeout = 5_000;

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  routerContext: EntryContext,
  loadContext: RouterContextProvider,
) {
  // Set by the security middleware, which also sends it in the page's Content-Security-Policy.
  const nonce = loadContext.get(nonceContext) || undefined;

  // https://httpwg.org/specs/rfc9110.html#HEAD
  if (request.method.toUpperCase() === "HEAD") {
    return new Response(null, { status: responseStatusCode, headers: responseHeaders });
  }

  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const userAgent = request.headers.get("user-agent");
    // Bots and SPA-mode renders wait for all content so they get complete HTML.
    const readyOption: keyof RenderToPipeableStreamOptions =
      (userAgent && isbot(userAgent)) || routerContext.isSpaMode ? "onAllReady" : "onShellReady";

    // Abort after `streamTimeout`, leaving time to flush the rejected boundaries.
    let timeoutId: ReturnType<typeof setTimeout> | undefined = setTimeout(() => abort(), streamTimeout + 1000);

    const app = (
      <NonceContext value={nonce ?? ""}>
        <ServerRouter context={routerContext} url={request.url} nonce={nonce} />
      </NonceContext>
    );
    const { pipe, abort } = renderToPipeableStream(app, {
      nonce,
      [readyOption]() {
        shellRendered = true;
        const body = new PassThrough({
          final(callback) {
            clearTimeout(timeoutId);
            timeoutId = undefined;
            callback();
          },
        });
        responseHeaders.set("Content-Type", "text/html");
        pipe(body);
        resolve(
          new Response(createReadableStreamFromReadable(body), {
            headers: responseHeaders,
            status: responseStatusCode,
          }),
        );
      },
      onShellError(error: unknown) {
        reject(error);
      },
      onError(error: unknown) {
        responseStatusCode = 500;
        // Shell errors reject above and are logged by React Router; only log the ones after it.
        if (shellRendered) logger("server").error({ err: error }, "rendering the page failed");
      },
    });
  });
}

export const handleError: HandleErrorFunction = (error, { request }) => {
  // A client that went away (closed tab, aborted fetch, stopped stream) is not a server error.
  if (request.signal.aborted) return;
  // A 404 for an unknown address, or another answer about the request, is not a server error either.
  if (isRouteErrorResponse(error) && error.status < 500) return;
  logger("server").error({ err: error }, `${request.method} ${new URL(request.url).pathname.slice(0, 200)} failed`);
};

// The production server serves the embedded engine's mount beside React Router, with this build's modules.
export { localEngineMount } from "./lib/local-engine-mount.server";

import type { ChatFetchOverride } from "@trigger.dev/sdk/chat";

/** How long an opened answer stream waits for the transport to ask for it after the message was taken. */
export const CLAIM_WINDOW_MS = 2_000;

type OutPipelineOptions = {
  /** The `Timeout-Seconds` the transport sends (its `streamTimeoutSeconds`). */
  timeoutSeconds: number;
  fetch?: typeof fetch;
};

type Opened = {
  url: string;
  headers: Record<string, string>;
  response: Promise<Response>;
  cancel: AbortController;
  timer?: ReturnType<typeof setTimeout>;
};

/**
 * A fetch for the SDK's transport that opens a turn's answer stream (`.out`)
 * together with the message's append to `.in`, instead of after the append's
 * response: the transport sends one, waits, then sends the other, and that
 * second round trip is on the path to every answer's first words. The stream
 * is opened only for sends marked with `expectTurn`, with the headers the
 * transport will send, and handed over only if the transport then asks for
 * exactly that request; otherwise it is canceled and the transport's own
 * request goes out. The server sends nothing on it that the transport's own
 * request would not have received: both read from the same position.
 */
export function outPipeline({ timeoutSeconds, fetch: send = fetch }: OutPipelineOptions) {
  /** Per chat, where the transport's stream will resume from: its session's last event id when the append goes out. */
  const expected = new Map<string, () => string | undefined>();
  const opened = new Map<string, Opened>();

  /** No longer offered to the transport: handed over, or about to be canceled. */
  const release = (chatId: string, stream: Opened) => {
    if (opened.get(chatId) !== stream) return false;
    opened.delete(chatId);
    clearTimeout(stream.timer);
    return true;
  };
  const discard = (chatId: string, stream: Opened) => {
    if (release(chatId, stream)) stream.cancel.abort();
  };

  const open = (chatId: string, appendUrl: string, authorization: string | undefined, cursor: string | undefined) => {
    const previous = opened.get(chatId);
    if (previous) discard(chatId, previous);
    const headers = headersOf({
      Accept: "text/event-stream",
      ...(authorization ? { Authorization: authorization } : {}),
      ...(cursor ? { "Last-Event-ID": cursor } : {}),
      "Timeout-Seconds": String(timeoutSeconds),
    });
    const cancel = new AbortController();
    const url = appendUrl.replace(/\/in\/append$/, "/out");
    const response = send(url, { headers, signal: cancel.signal });
    // Canceled unclaimed, or failed before anyone asked: nobody is waiting on it.
    response.catch(() => {});
    const stream: Opened = { url, headers, response, cancel };
    opened.set(chatId, stream);
    return stream;
  };

  const pipelinedFetch: ChatFetchOverride = (url, init, { endpoint, chatId }) => {
    const cursorOf = endpoint === "in" ? expected.get(chatId) : undefined;
    if (cursorOf && init.method === "POST" && /\/in\/append$/.test(url)) {
      expected.delete(chatId);
      const stream = open(chatId, url, headersOf(init.headers).authorization, cursorOf());
      const appended = send(url, init);
      appended.then(
        (response) => {
          if (!response.ok) discard(chatId, stream);
          else if (opened.get(chatId) === stream)
            stream.timer = setTimeout(() => discard(chatId, stream), CLAIM_WINDOW_MS);
        },
        () => discard(chatId, stream),
      );
      return appended;
    }
    const stream = endpoint === "out" ? opened.get(chatId) : undefined;
    if (!stream) return send(url, init);
    const signal = init.signal;
    if (url !== stream.url || !sameHeaders(headersOf(init.headers), stream.headers) || signal?.aborted) {
      discard(chatId, stream);
      return send(url, init);
    }
    release(chatId, stream);
    // From here the transport's own signal is what cancels it.
    signal?.addEventListener("abort", () => stream.cancel.abort(), { once: true });
    return stream.response;
  };

  return {
    fetch: pipelinedFetch,
    /**
     * The next append to this chat's `.in` starts a turn whose answer the
     * transport will read from `.out`, from the position `cursor` gives then.
     * Returns what to call once the send is over, whether it appended or not.
     */
    expectTurn(chatId: string, cursor: () => string | undefined) {
      expected.set(chatId, cursor);
      return () => {
        if (expected.get(chatId) === cursor) expected.delete(chatId);
      };
    },
  };
}

/** Header names lower-cased, as `Headers` keeps them. */
function headersOf(headers: HeadersInit | undefined): Record<string, string> {
  return Object.fromEntries(new Headers(headers).entries());
}

function sameHeaders(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

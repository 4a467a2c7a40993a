import { ApiError, sessions, type RetrieveSessionResponseBody } from "@trigger.dev/sdk";
import { chat, defaultStorage } from "@trigger.dev/sdk/ai";
import type { Nodes } from "mdast";
import { toString } from "mdast-util-to-string";
import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import { unified } from "unified";
import type { ChatUIMessage } from "../../trigger/chat";
import { parseChatId } from "./chat-schemas.server";
import { CHAT_RENAME_MAX_LENGTH, type ChatListPage, type ChatSummary } from "./chats";
import { getServerEnv } from "./env.server";
import { ownerTag, readGuestId } from "./guest.server";
import { errorResponse } from "./http.server";
import { getLocalEngine } from "./local-engine.server";
import { logger } from "./logger.server";
import { getRedis, withRedisLock } from "./redis.server";
import { connectTrigger, startChatSession } from "./trigger.server";

export const CHAT_TITLE_MAX_LENGTH = 60;
/** How many chats one page of the sidebar's list holds. */
export const CHAT_LIST_LIMIT = 50;
/** Messages per transcript page; older ones load on demand. */
export const TRANSCRIPT_PAGE_SIZE = 50;

export type ChatAccess =
  /** No session yet: the caller may start one under this id. */
  | { kind: "new" }
  | { kind: "owned"; session: RetrieveSessionResponseBody }
  /** Someone else's chat, or one that was deleted. Callers answer 404 either way, so ids leak nothing. */
  | { kind: "unavailable" };

export type ChatTranscriptPage = {
  messages: ChatUIMessage[];
  /** Resume cursor on the chat's output stream, just past the saved history. */
  lastEventId: string | undefined;
  /** Pass as `before` to load the page of older messages; absent on the first page of the chat. */
  nextCursor: string | undefined;
};

const loadTranscript = chat.createLoadTranscriptAction(defaultStorage);

/** Whether `guestId` may use this chat. Ownership is the session's `guest:<id>` tag, set when the chat started. */
export async function getChatAccess(chatId: string, guestId: string | null): Promise<ChatAccess> {
  await connectTrigger();
  let session: RetrieveSessionResponseBody;
  try {
    session = await sessions.retrieve(chatId);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { kind: "new" };
    throw error;
  }
  const open = !session.closedAt && !(session.expiresAt && session.expiresAt.getTime() <= Date.now());
  if (guestId && open && session.tags.includes(ownerTag(guestId))) return { kind: "owned", session };
  return { kind: "unavailable" };
}

/**
 * The gate of every route that acts on an existing chat: a 400 for a malformed
 * id, a 404 unless the calling guest owns the chat (unknown, foreign and
 * deleted chats look alike). Throws those responses; returns the chat id.
 */
export async function requireOwnedChat(request: Request, rawChatId: string | undefined): Promise<string> {
  const chatId = parseChatId(rawChatId);
  if (!chatId) throw errorResponse(400, "chatId must be a UUID");
  const access = await getChatAccess(chatId, await readGuestId(request));
  if (access.kind !== "owned") throw errorResponse(404, "Chat not found");
  return chatId;
}

// Starts of one chat id queue behind each other, so "is it new?" and "start it" happen as one step:
// in this process, and across instances through Redis when it is configured.
const chatStarts = new Map<string, Promise<unknown>>();

async function oneStartAtATime<T>(chatId: string, work: () => Promise<T>): Promise<T> {
  const redis = getRedis();
  const start = redis ? () => withRedisLock(redis, `chat-start:${chatId}`, work) : work;
  const previous = chatStarts.get(chatId) ?? Promise.resolve();
  const current = previous.catch(() => {}).then(start);
  chatStarts.set(chatId, current);
  try {
    return await current;
  } finally {
    if (chatStarts.get(chatId) === current) chatStarts.delete(chatId);
  }
}

/** `created`: the chat is new; otherwise the guest rejoined a chat it owns. */
export type ChatStart = { kind: "started"; publicAccessToken: string; created: boolean } | { kind: "unavailable" };

/**
 * Starts a new chat for the guest, or rejoins one the guest owns. Ownership
 * is decided once: Trigger.dev's session create is idempotent and writes the
 * caller's tags through, so two guests racing to start the same new id would
 * both get a token and the later one would take it over. Checking and
 * starting under one lock per chat id makes the first one the owner and
 * everyone after it "unavailable".
 */
export function startOwnedChat(chatId: string, guestId: string, title: string | undefined): Promise<ChatStart> {
  return oneStartAtATime(chatId, async () => {
    const access = await getChatAccess(chatId, guestId);
    if (access.kind === "unavailable") return { kind: "unavailable" };
    if (access.kind === "new") {
      // A new chat is created with its title, in one call rather than two. One started before its first
      // message (started early, while the user types) is a draft until that message names it.
      const metadata = title
        ? { title: titleFromText(title), ...PLAIN_TITLE, titleSource: "message" satisfies TitleSource }
        : DRAFT;
      return {
        kind: "started",
        publicAccessToken: (await startChatSession(chatId, ownerTag(guestId), metadata)).publicAccessToken,
        created: true,
      };
    }
    const { publicAccessToken } = await startChatSession(chatId, ownerTag(guestId));
    const existing = access.session.metadata;
    if (title && !storedTitle(existing)) await setChatTitle(chatId, titleFromText(title), existing);
    return { kind: "started", publicAccessToken, created: false };
  });
}

export type HeadStart =
  | { kind: "started"; response: Response }
  /** The chat has started already (in another tab): its messages go to the agent, not through a head start. */
  | { kind: "exists" }
  | { kind: "unavailable" };

/**
 * Starts a new chat with its first answer written on this server while the
 * agent's run boots (`handle` is the `chat.headStart` handler, which creates
 * the session). Under the same lock as {@link startOwnedChat}, so ownership
 * is decided once. The title is saved beside the answer, and the answer's
 * stream ends only once it is, so a sidebar refreshed after the answer lists
 * the chat under its title.
 */
export function startOwnedChatWithHeadStart(
  chatId: string,
  guestId: string,
  title: string,
  handle: () => Promise<Response>,
): Promise<HeadStart> {
  return oneStartAtATime(chatId, async () => {
    const access = await getChatAccess(chatId, guestId);
    if (access.kind !== "new") return { kind: access.kind === "owned" ? "exists" : "unavailable" };
    const response = await handle();
    const titled = setChatTitle(chatId, titleFromText(title)).catch((error: unknown) =>
      logger("trigger").warn({ err: error }, "could not save a head-started chat's title"),
    );
    if (!response.body) return { kind: "started", response };
    return { kind: "started", response: new Response(finishingWithoutReader(response.body, titled), response) };
  });
}

/**
 * The answer's stream, which ends once `after` has settled, and which the
 * SDK keeps writing when its reader goes (a reload, Stop): cancelling the
 * SDK's stream would abort the answer mid-way and hand the agent no turn,
 * losing the first message. So the answer is written to the end into the
 * chat's stream, where a reloaded page picks it up, and handed over.
 */
function finishingWithoutReader(body: ReadableStream<Uint8Array>, after: Promise<unknown>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (!done) return controller.enqueue(value);
      await after;
      controller.close();
    },
    cancel() {
      void (async () => {
        while (!(await reader.read()).done);
      })().catch(() => {});
    },
  });
}

/**
 * One page of the guest's open chats, newest first. `cursor` is the
 * `nextCursor` of the page before; Trigger.dev's own list cursor, passed through.
 * Throws a 400 Response for a cursor Trigger.dev does not know.
 */
export async function listGuestChats(guestId: string, cursor?: string): Promise<ChatListPage> {
  await connectTrigger();
  const tag = ownerTag(guestId);
  let page: Awaited<ReturnType<typeof sessions.list>>;
  try {
    page = await sessions.list({ type: "chat.agent", tag, status: "ACTIVE", limit: CHAT_LIST_LIMIT, after: cursor });
  } catch (error) {
    if (cursor !== undefined && error instanceof ApiError && error.status === 400)
      throw errorResponse(400, "Unknown cursor: reload the chat list");
    throw error;
  }
  return { chats: summariesOf(page.data, tag), nextCursor: page.pagination.next };
}

type ListedSession = Awaited<ReturnType<typeof sessions.list>>["data"][number];

function summariesOf(rows: ListedSession[], tag: string): ChatSummary[] {
  return rows.flatMap((session) =>
    // The tag filter is "any of"; re-check so a list can never include another guest's chat.
    // A draft has no message yet: it is listed once its first message names it.
    session.externalId && session.tags.includes(tag) && !isDraft(session.metadata)
      ? [{ id: session.externalId, title: titleOf(session.metadata), createdAt: session.createdAt.toISOString() }]
      : [],
  );
}

/** Sessions fetched per request while searching: the most Trigger.dev's list gives at once. */
const SEARCH_PAGE_SIZE = 100;
/** The most matches one search returns; the sidebar asks the user to narrow the search past it. */
export const CHAT_SEARCH_LIMIT = 100;

/**
 * The guest's open chats whose title contains `query` (case and accents
 * ignored), newest first. Titles live in each session's metadata and the list
 * API cannot filter on them, so this reads every page of the guest's chats,
 * not only those the sidebar has loaded.
 */
export async function searchGuestChats(
  guestId: string,
  query: string,
): Promise<{ chats: ChatSummary[]; truncated: boolean }> {
  await connectTrigger();
  const tag = ownerTag(guestId);
  const needle = foldForSearch(query);
  const chats: ChatSummary[] = [];
  let after: string | undefined;
  do {
    const page = await sessions.list({ type: "chat.agent", tag, status: "ACTIVE", limit: SEARCH_PAGE_SIZE, after });
    for (const chat of summariesOf(page.data, tag)) {
      if (!foldForSearch(chat.title).includes(needle)) continue;
      if (chats.length === CHAT_SEARCH_LIMIT) return { chats, truncated: true };
      chats.push(chat);
    }
    after = page.pagination.next;
  } while (after);
  return { chats, truncated: false };
}

/** Text as search compares it: lowercase, accents dropped, runs of whitespace as one space. */
export function foldForSearch(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim();
}

/** One page of the chat's saved conversation, newest messages last. Authorize the caller first. */
export async function loadChatTranscript(
  chatId: string,
  options: { before?: string; limit?: number } = {},
): Promise<ChatTranscriptPage> {
  await connectTrigger();
  const result = await loadTranscript({ chatId, limit: options.limit ?? TRANSCRIPT_PAGE_SIZE, before: options.before });
  return {
    // The agent saves exactly the messages it streamed, which are ChatUIMessages.
    messages: result.messages as ChatUIMessage[],
    lastEventId: result.cursors?.lastOutEventId,
    nextCursor: result.nextCursor,
  };
}

/** Marks titles stored as plain text; titles without it were stored as the first message's raw markdown. */
const PLAIN_TITLE = { titleFormat: "text" } as const;
/** Marks a chat started before its first message was sent. */
const DRAFT = { draft: true } as const;
const isDraft = (metadata: Record<string, unknown> | null | undefined) => metadata?.draft === true;

/**
 * Who named the chat: its first message (when it starts), the agent (after
 * the first exchange) or the user (a rename). The agent never replaces the user's.
 */
export type TitleSource = "message" | "agent" | "user";

/** Stores the chat's title in its session metadata, keeping any other metadata. */
export async function setChatTitle(
  chatId: string,
  title: string,
  metadata?: Record<string, unknown> | null,
  source: TitleSource = "message",
): Promise<void> {
  await connectTrigger();
  // A titled chat is no longer a draft.
  const kept = Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => key !== "draft"));
  await sessions.update(chatId, { metadata: { ...kept, title, ...PLAIN_TITLE, titleSource: source } });
}

export const CHAT_DELETED_REASON = "Deleted by its owner";

/**
 * Deletes the chat for good: it leaves the list, its page answers 404, and
 * its id can never be started again. On the embedded engine its text also
 * leaves the disk and every token minted for it stops working at once.
 * Trigger.dev has neither an erase nor token revocation, so there the
 * session is closed, and tokens already handed out lapse when they expire.
 */
export async function deleteChat(chatId: string): Promise<void> {
  const { mode } = await connectTrigger();
  if (mode === "local") {
    // An engine-only extension, not Trigger.dev API, so it is called in-process rather than through the SDK.
    const engine = await getLocalEngine(getServerEnv());
    engine.deleteSession(chatId, { reason: CHAT_DELETED_REASON });
    return;
  }
  await sessions.close(chatId, { reason: CHAT_DELETED_REASON });
}

export const UNTITLED_CHAT = "New chat";

const markdownParser = unified().use(remarkParse).use(remarkGfm);
/** Nodes whose children are blocks or cells, which a space keeps apart: "# A\n\nB" reads "A B", not "AB". */
const SPACED = new Set<Nodes["type"]>([
  "root",
  "blockquote",
  "list",
  "listItem",
  "table",
  "tableRow",
  "footnoteDefinition",
]);

function plainText(node: Nodes): string {
  if (node.type === "break") return " ";
  if (node.type === "footnoteReference" || node.type === "footnoteDefinition") return "";
  if ("children" in node)
    return node.children.map((child) => plainText(child as Nodes)).join(SPACED.has(node.type) ? " " : "");
  // Text, code and inline code keep their content; images their alt text.
  return toString(node);
}

/**
 * A one-line plain-text title from a message: its markdown syntax dropped,
 * whitespace collapsed, cut at a word boundary near the limit. A message with
 * no text (an empty code fence) gives the untitled name.
 */
export function titleFromText(text: string): string {
  const line = plainText(markdownParser.parse(text)).replace(/\s+/g, " ").trim();
  if (!line) return UNTITLED_CHAT;
  if (line.length <= CHAT_TITLE_MAX_LENGTH) return line;
  const cut = line.slice(0, CHAT_TITLE_MAX_LENGTH - 1);
  const lastSpace = cut.lastIndexOf(" ");
  return `${(lastSpace > CHAT_TITLE_MAX_LENGTH / 2 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}

/** The stored title as plain text, or undefined for a chat that has none yet. */
export function storedTitle(metadata: Record<string, unknown> | null | undefined): string | undefined {
  const title = metadata?.title;
  if (typeof title !== "string" || !title) return undefined;
  // Converted on read, so chats titled before titles were plain text show plain text too. The browser's
  // session token may write metadata too, so a stored title is held to the longest one the app writes.
  return metadata?.titleFormat === PLAIN_TITLE.titleFormat
    ? title.slice(0, CHAT_RENAME_MAX_LENGTH)
    : titleFromText(title);
}

function titleOf(metadata: Record<string, unknown> | null | undefined): string {
  return storedTitle(metadata) ?? UNTITLED_CHAT;
}

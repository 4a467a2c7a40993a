import { logger, sessions } from "@trigger.dev/sdk";
import type { ChatWriter } from "@trigger.dev/sdk/ai";
import { generateText, type UIMessage } from "ai";
import { getAgentEnv } from "./env";
import { type ChatModelDescription, describeChatModel, getChatModel } from "../app/lib/ai/model";

/** The longest title the agent writes; the sidebar shows about this much. */
export const AGENT_TITLE_MAX_LENGTH = 60;
const TITLE_MAX_WORDS = 8;
/** A title from the model that takes longer than this is replaced by the derived one, so the turn's end never waits long. */
const TITLE_TIMEOUT_MS = 4_000;

/** The data part that tells the page the chat has its title: transient, since the title lives in the session. */
export type ChatTitlePart = { title: string };

/**
 * A short title from the first question, the same every time for the same
 * text: its first sentence, without markdown or a closing period, at most eight words.
 */
export function deriveTitle(text: string): string | undefined {
  const plain = text
    .replace(/```[^\n]*\n?([\s\S]*?)```/g, " $1 ")
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+/gm, "")
    .replace(/[*_`~]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
  const sentence = plain.split(/(?<=[.!?])\s/)[0] ?? "";
  const all = sentence
    .replace(/[\s.:;,]+$/, "")
    .split(" ")
    .filter(Boolean);
  // A short question keeps its question mark; one cut short does not end in one.
  const words = all.slice(0, TITLE_MAX_WORDS);
  if (all.length > TITLE_MAX_WORDS) words[words.length - 1] = words.at(-1)!.replace(/[!?]+$/, "");
  let title = words.join(" ");
  if (!title) return undefined;
  if (title.length > AGENT_TITLE_MAX_LENGTH) title = `${title.slice(0, AGENT_TITLE_MAX_LENGTH - 1).trimEnd()}…`;
  return title.charAt(0).toUpperCase() + title.slice(1);
}

/** A model's reply as a title: one line, no quotes or trailing period, within the length. */
export function cleanModelTitle(reply: string): string | undefined {
  const line = reply
    .split("\n")
    .map((part) => part.trim())
    .find(Boolean);
  const title = line
    ?.replace(/^(title:\s*)/i, "")
    .replace(/^["'“”‘’*#\s]+|["'“”‘’*.\s]+$/g, "")
    .trim();
  if (!title) return undefined;
  return title.length > AGENT_TITLE_MAX_LENGTH ? `${title.slice(0, AGENT_TITLE_MAX_LENGTH - 1).trimEnd()}…` : title;
}

function textOf(message: UIMessage): string {
  return message.parts.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n");
}

/** Titles being written for a chat's first exchange, by chat id: begun with the turn, saved at its end. */
const pendingTitles = new Map<string, Promise<string | undefined>>();

/**
 * Starts writing the title when the turn is the chat's first exchange (one
 * question in the history, also after that question was edited). It runs
 * beside the answer, so the answer never waits for it.
 */
export function beginTitle({
  chatId,
  uiMessages,
  model = describeChatModel(getAgentEnv()),
}: {
  chatId: string;
  uiMessages: UIMessage[];
  /** The model answering this turn (the user's pick), which also writes the title. */
  model?: ChatModelDescription;
}) {
  const questions = uiMessages.filter((message) => message.role === "user");
  if (questions.length !== 1) return;
  pendingTitles.set(chatId, composeTitle(textOf(questions[0]!), model));
}

async function composeTitle(question: string, model: ChatModelDescription): Promise<string | undefined> {
  const derived = deriveTitle(question);
  if (model.offline) return derived;
  try {
    const { text } = await generateText({
      model: getChatModel(getAgentEnv(), model.id),
      system:
        "Write a title of at most six words for a chat that starts with the user's message below. Plain text only: no quotes, no markdown, no final period.",
      prompt: question.slice(0, 2_000),
      maxOutputTokens: 40,
      abortSignal: AbortSignal.timeout(TITLE_TIMEOUT_MS),
    });
    return cleanModelTitle(text) ?? derived;
  } catch (error) {
    logger.warn("Chat title could not be generated; using one derived from the message", { error });
    return derived;
  }
}

/**
 * Saves the title begun for the chat's first exchange (this turn, or an earlier one that was stopped) to its session, unless the user
 * has named the chat, and tells the page. Never throws: a title that cannot
 * be saved leaves the chat's title as it was.
 */
export async function finishTitle({ chatId, writer }: { chatId: string; writer: ChatWriter }) {
  const pending = pendingTitles.get(chatId);
  pendingTitles.delete(chatId);
  const title = await pending;
  if (!title) return;
  try {
    if (!(await saveAgentTitle(chatId, title))) return;
    writer.write({ type: "data-chat-title", data: { title } satisfies ChatTitlePart, transient: true });
  } catch (error) {
    logger.warn("Chat title could not be saved", { error });
  }
}

/** Writes the agent's title into the session's metadata, keeping the rest; false when the user has renamed the chat. */
export async function saveAgentTitle(chatId: string, title: string): Promise<boolean> {
  const { metadata } = await sessions.retrieve(chatId);
  if (metadata?.titleSource === "user") return false;
  // A chat the agent titles has had its first exchange, so it is no longer a draft (see app/lib/chats.server.ts).
  const kept = Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => key !== "draft"));
  await sessions.update(chatId, { metadata: { ...kept, title, titleFormat: "text", titleSource: "agent" } });
  return true;
}

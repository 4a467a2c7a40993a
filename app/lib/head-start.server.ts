import { chat } from "@trigger.dev/sdk/chat-server";
import type { StreamTextResult, ToolSet, UIMessageStreamOptions } from "ai";
import type { ChatUIMessage } from "../../trigger/chat";
// Only the model's own modules, which import `ai` and the provider: never the agent's task module, which would
// bring the SDK's task runtime into the web server (the SDK's "bundle isolation" rule for head starts).
import { chooseChatModel, getChatModel } from "./ai/model";
import { describeModelFailure, reportModelRefusals } from "./ai/model-failures";
import { CHAT_SYSTEM_PROMPT } from "./ai/prompts";
import { CHAT_TASK_ID } from "./chats";
import { getServerEnv } from "./env.server";
import { logger } from "./logger.server";

/**
 * The handler that writes a new chat's first answer on this server while the
 * agent's run boots (`chat.headStart`), with the agent's model, system prompt
 * and answer metadata and the model the user picked, then hands the turn to the agent. `ownerTag` goes on
 * the session it creates, as a direct start puts it there.
 */
export function createHeadStartHandler(
  ownerTag: string,
  modelChoice: string | undefined,
): (request: Request) => Promise<Response> {
  // Resolved first: a choice that is not offered, or a model that cannot be resolved, fails the request before
  // any session exists. The agent refuses the same choices on later turns.
  const env = getServerEnv();
  const { id, offline } = chooseChatModel(modelChoice, env);
  const model = getChatModel(env, id);
  return chat.headStart({
    agentId: CHAT_TASK_ID,
    tags: [ownerTag],
    run: async ({ streamText }) => {
      const result = streamText({
        model,
        system: CHAT_SYSTEM_PROMPT,
        experimental_transform: reportModelRefusals,
        onError: ({ error }) =>
          logger("trigger").error({ details: describeModelFailure(error).details }, "Head start model stream failed"),
      });
      return withAnswerOptions(result, {
        messageMetadata: ({ part }) => (part.type === "start" ? { model: id, offline } : undefined),
        onError: (error) => describeModelFailure(error).userMessage,
      });
    },
  });
}

/**
 * The result, with the agent's UI-stream options applied when the SDK turns
 * it into the answer's stream: the SDK passes only the message id, and the
 * page labels an answer by its metadata and shows a failure as one sentence.
 */
function withAnswerOptions<T extends StreamTextResult<ToolSet, never>>(
  result: T,
  options: Pick<UIMessageStreamOptions<ChatUIMessage>, "messageMetadata" | "onError">,
): T {
  return new Proxy(result, {
    get(target, key) {
      if (key === "toUIMessageStream") {
        return (given: UIMessageStreamOptions<ChatUIMessage> = {}) =>
          target.toUIMessageStream({ ...given, ...options });
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

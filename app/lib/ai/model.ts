import { createGoogleGenerativeAI } from "@ai-sdk/google";
import type { LanguageModelV3, ProviderV3 } from "@ai-sdk/provider";
import {
  createProviderRegistry,
  customProvider,
  LoadAPIKeyError,
  NoSuchModelError,
  NoSuchProviderError,
  type ProviderRegistryProvider,
} from "ai";
import type { ModelEnv } from "./model-env";
import { chatModelCatalog, DEFAULT_GOOGLE_CHAT_MODEL, OFFLINE_CHAT_MODEL, refuseModelChoice } from "./model-catalog";
import { createOfflineModel, OFFLINE_MODEL_ID } from "./offline-model";

export { DEFAULT_GOOGLE_CHAT_MODEL, OFFLINE_CHAT_MODEL };

type ApiKeyName = Extract<keyof ModelEnv, `${string}_API_KEY`>;

export function createChatModelRegistry(env: ModelEnv): ProviderRegistryProvider {
  // Models are addressed as "<provider>:<model-id>". Adding an AI SDK provider is one line
  // here (plus its key in model-env.ts), e.g.
  // `anthropic: withApiKey(env, "ANTHROPIC_API_KEY", (apiKey) => createAnthropic({ apiKey }))`.
  return createProviderRegistry({
    google: withApiKey(env, "GOOGLE_GENERATIVE_AI_API_KEY", (apiKey) =>
      createGoogleGenerativeAI({ apiKey, baseURL: env.GOOGLE_GENERATIVE_AI_BASE_URL }),
    ),
    offline: customProvider({
      languageModels: { [OFFLINE_MODEL_ID]: createOfflineModel({ wordDelayMs: env.OFFLINE_MODEL_DELAY_MS }) },
    }),
  });
}

/** `CHAT_MODEL` if set, else Gemini when its key is present, else the offline model. */
export function resolveChatModelId(env: ModelEnv): string {
  return chatModelCatalog(env).defaultModel;
}

/** A model the user chose that this deployment does not offer; its message is for the user. */
export class ModelChoiceError extends Error {
  override readonly name = "ModelChoiceError";
}

/**
 * The model a turn answers with: the user's choice (the picker's, sent as
 * client data) when there is one, else the default. A choice this deployment
 * is not configured for is refused, never swapped for another model.
 */
export function chooseChatModel(choice: string | undefined, env: ModelEnv): ChatModelDescription {
  const catalog = chatModelCatalog(env);
  const id = choice ?? catalog.defaultModel;
  const refusal = refuseModelChoice(id, catalog);
  if (refusal) throw new ModelChoiceError(refusal);
  return { id, offline: id === OFFLINE_CHAT_MODEL };
}

/**
 * The model the agent answers with. Throws on an id the registry cannot map:
 * guessing another model would hide a typo, and an unknown id only fails later,
 * mid-conversation.
 */
export function getChatModel(env: ModelEnv, chosen?: string): LanguageModelV3 {
  const id = chosen ?? resolveChatModelId(env);
  try {
    return createChatModelRegistry(env).languageModel(id as `${string}:${string}`);
  } catch (error) {
    const source = chosen !== undefined ? "Chosen model" : env.CHAT_MODEL ? "CHAT_MODEL" : "Default chat model";
    throw new Error(`${source} "${id}": ${explainResolutionError(error, id)}`, { cause: error });
  }
}

export type ChatModelDescription = { id: string; offline: boolean };

export function describeChatModel(env: ModelEnv): ChatModelDescription {
  const id = resolveChatModelId(env);
  return { id, offline: id === OFFLINE_CHAT_MODEL };
}

/**
 * Without a key the provider would read process.env on its own at request
 * time and fail mid-stream; this fails when the model is resolved instead.
 */
function withApiKey(env: ModelEnv, name: ApiKeyName, create: (apiKey: string) => ProviderV3): ProviderV3 {
  const apiKey = env[name];
  if (apiKey) return create(apiKey);
  const missingKey = (): never => {
    throw new LoadAPIKeyError({ message: `set ${name} to use this provider` });
  };
  return { specificationVersion: "v3", languageModel: missingKey, embeddingModel: missingKey, imageModel: missingKey };
}

function explainResolutionError(error: unknown, id: string): string {
  if (NoSuchProviderError.isInstance(error)) {
    return `unknown provider "${error.providerId}" (available: ${error.availableProviders.join(", ")})`;
  }
  if (NoSuchModelError.isInstance(error)) {
    const provider = id.slice(0, id.indexOf(":"));
    return `unknown model "${error.modelId}" for provider "${provider}"`;
  }
  return error instanceof Error ? error.message : String(error);
}

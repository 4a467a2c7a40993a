/*
 * Which models a deployment offers, from its environment alone. Pure data and
 * no imports, so the web server can list the same models the agent accepts
 * (the model picker) without loading any provider.
 */

export type ChatModelOption = {
  /** The registry id, "<provider>:<model-id>". */
  id: string;
  label: string;
  /** Answers without calling any AI service. */
  offline: boolean;
};

/** The variables the catalog reads: the same names as the agent's environment (trigger/env.ts). */
export type ModelCatalogEnv = {
  CHAT_MODEL?: string | undefined;
  GOOGLE_GENERATIVE_AI_API_KEY?: string | undefined;
};

export type ModelCatalog = { models: ChatModelOption[]; defaultModel: string };

export const OFFLINE_CHAT_MODEL = "offline:offline-chat";
export const DEFAULT_GOOGLE_CHAT_MODEL = "google:gemini-2.5-flash";

const OFFLINE_OPTION: ChatModelOption = { id: OFFLINE_CHAT_MODEL, label: "Offline demo model", offline: true };

/**
 * Each provider's models, offered when the provider's key is set. A provider
 * added to the registry in model.ts gets a line here too.
 */
const PROVIDER_MODELS: { key: keyof ModelCatalogEnv; models: ChatModelOption[] }[] = [
  {
    key: "GOOGLE_GENERATIVE_AI_API_KEY",
    models: [
      { id: DEFAULT_GOOGLE_CHAT_MODEL, label: "Gemini 2.5 Flash", offline: false },
      { id: "google:gemini-2.5-flash-lite", label: "Gemini 2.5 Flash-Lite", offline: false },
      { id: "google:gemini-2.5-pro", label: "Gemini 2.5 Pro", offline: false },
    ],
  },
];

/**
 * The models this environment is configured for: the offline model always,
 * each provider's models when its key is set, and `CHAT_MODEL` itself. The
 * default is `CHAT_MODEL`, else Gemini when its key is set, else offline.
 */
export function chatModelCatalog(env: ModelCatalogEnv): ModelCatalog {
  const models = [OFFLINE_OPTION, ...PROVIDER_MODELS.flatMap(({ key, models }) => (env[key] ? models : []))];
  const defaultModel =
    env.CHAT_MODEL ?? (env.GOOGLE_GENERATIVE_AI_API_KEY ? DEFAULT_GOOGLE_CHAT_MODEL : OFFLINE_CHAT_MODEL);
  if (!models.some((model) => model.id === defaultModel)) {
    models.push({ id: defaultModel, label: defaultModel, offline: false });
  }
  return { models, defaultModel };
}

/** Why a choice of model is refused, in words the user reads; undefined when the model is offered. */
export function refuseModelChoice(choice: string, catalog: ModelCatalog): string | undefined {
  if (catalog.models.some((model) => model.id === choice)) return undefined;
  const offered = catalog.models.map((model) => `${model.label} (${model.id})`).join(", ");
  return `The model “${choice.slice(0, 100)}” isn’t available on this server, so nothing was sent to it. Choose one of: ${offered}.`;
}

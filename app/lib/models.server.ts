import { chatModelCatalog, type ModelCatalog } from "./ai/model-catalog";
import { getServerEnv } from "./env.server";

/**
 * The models the picker offers: those the agent's environment configures
 * (the catalog reads only which keys are set, never sends them anywhere). On
 * the embedded engine the agent runs in this process, so this is exactly the
 * agent's list; with Trigger.dev it is the web host's copy of those variables,
 * and the agent still refuses a model it is not configured for.
 */
export function offeredChatModels(): ModelCatalog {
  return chatModelCatalog(getServerEnv());
}

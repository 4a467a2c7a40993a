/*
 * What the end-to-end suite runs against, from its environment. Read by
 * tests/playwright.config.ts and by the fixtures, so both agree.
 *
 * - E2E_BASE_URL: an app that is already running, such as a staging deploy. The suite then starts
 *   no server of its own, and skips the tests that need one (they say why).
 * - E2E_MODEL: the model that answers on that app, as its CHAT_MODEL names it. Any model but the
 *   offline one skips the tests that check the offline model's words.
 */

/** The model the suite's own servers use, and what a deployment is assumed to use unless E2E_MODEL says otherwise. */
export const OFFLINE_MODEL = "offline:offline-chat";

export type E2eTarget = {
  /** The app under test when it is a deployment; undefined when the suite starts its own server. */
  deploymentURL: string | undefined;
  /** The `provider:model-id` that answers. */
  model: string;
};

/** Reads and checks the suite's environment; a bad value is an error that says how to fix it. */
export function parseE2eTarget(env: Record<string, string | undefined>): E2eTarget {
  const base = env.E2E_BASE_URL?.trim() || undefined;
  const model = env.E2E_MODEL?.trim() || undefined;
  if (!base) {
    if (model && model !== OFFLINE_MODEL) {
      throw new Error(
        `E2E_MODEL=${model}: E2E_MODEL names the model of the app at E2E_BASE_URL. Without E2E_BASE_URL ` +
          `the suite starts its own server, which always answers with ${OFFLINE_MODEL}. ` +
          "Set E2E_BASE_URL, or unset E2E_MODEL.",
      );
    }
    return { deploymentURL: undefined, model: OFFLINE_MODEL };
  }
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`E2E_BASE_URL=${base}: must be the app's URL, such as https://chat-staging.example.com`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`E2E_BASE_URL=${base}: must start with http:// or https://`);
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new Error(`E2E_BASE_URL=${base}: must be an origin with no path, such as ${url.origin}`);
  }
  if (model !== undefined && !/^[^:\s]+:\S+$/.test(model)) {
    throw new Error(`E2E_MODEL=${model}: must look like "provider:model-id", such as google:gemini-2.5-flash`);
  }
  return { deploymentURL: url.origin, model: model ?? OFFLINE_MODEL };
}

export const e2eTarget = parseE2eTarget(process.env);

import type { ApiClient } from "@trigger.dev/core/v3";

/**
 * Whether an SDK client speaks to this engine with its secret key: the calls
 * the worker may answer itself or over its port. Any other client (another
 * URL, a token) is left to go over HTTP.
 */
export function isEngineClient({ apiURL, secretKey }: { apiURL: string; secretKey: string }) {
  const engineURL = withoutTrailingSlash(apiURL);
  return (client: ApiClient, operation: string, url = client.baseUrl) =>
    withoutTrailingSlash(url) === engineURL && client.getAccessToken(operation) === secretKey;
}

const withoutTrailingSlash = (url: string) => url.replace(/\/$/, "");

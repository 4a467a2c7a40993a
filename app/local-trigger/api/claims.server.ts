import { HttpError, json } from "../http/errors.server";
import type { Route, RouteContext } from "../http/router.server";
import { authenticate, isAuthFailure } from "./auth.server";
import { ENVIRONMENT_ID, type EngineContext, SECRET_KEY_CLAIMS } from "./context.server";

/** `POST /api/v1/auth/jwt/claims`: what `auth.createPublicToken` asks before it self-signs a token with the secret key. */
export function claimsRoutes(engine: EngineContext): Route[] {
  async function claims({ request }: RouteContext) {
    const caller = await authenticate(request.headers.get("authorization"), engine.secretKey, ENVIRONMENT_ID);
    if (isAuthFailure(caller) || caller.kind !== "secret-key")
      throw new HttpError(401, { error: "Invalid or Missing API key" });
    return json(200, SECRET_KEY_CLAIMS);
  }
  return [{ method: "POST", pattern: /^\/api\/v1\/auth\/jwt\/claims$/, handler: claims }];
}

import type { z } from "zod";

/** A JSON error body with a real status code; thrown from loaders and actions, returned as-is. */
export function errorResponse(status: number, message: string, init?: ResponseInit): Response {
  return Response.json({ error: message }, { ...init, status });
}

/** Reads and validates a JSON body; throws a 400 Response on malformed JSON or a schema mismatch. An empty body counts as `{}`. */
export async function readJsonBody<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  const text = await request.text();
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch {
      throw errorResponse(400, "Request body must be JSON");
    }
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message));
    throw errorResponse(400, `Invalid request body: ${problems.join("; ")}`);
  }
  return result.data;
}

const methodNotAllowedResponse = () => errorResponse(405, "Method not allowed: use POST", { headers: { Allow: "POST" } });

/** Only POST reaches these endpoints' actions; any other method is a 405. */
export function requirePost(request: Request): void {
  if (request.method !== "POST") throw methodNotAllowedResponse();
}

/** The loader of a POST-only resource route, so a GET gets a 405 rather than React Router's "no loader" error. */
export function postOnlyLoader(): Response {
  return methodNotAllowedResponse();
}

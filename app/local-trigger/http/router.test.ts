import { describe, expect, it } from "vitest";
import { badRequest } from "./errors.server";
import { createRouter } from "./router.server";

const serve = (handler: () => Response | Promise<Response>) => {
  const lines: string[] = [];
  const levels: string[] = [];
  const handle = createRouter([{ method: "GET", pattern: /^\/thing\/([^/]+)$/, handler }], (line, level = "info") => {
    lines.push(line);
    levels.push(level);
  });
  return { handle, lines, levels };
};

describe("createRouter", () => {
  it("answers an expected failure with its status, CORS headers and one log line", async () => {
    const { handle, lines } = serve(() => {
      throw badRequest("nope\nsecond line");
    });
    const response = await handle(new Request("http://x/thing/1"), "");
    expect(response.status).toBe(400);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(lines).toEqual(["GET /thing/1: 400 nope second line"]);
  });

  it("answers 503 with Retry-After when the process is out of file descriptors", async () => {
    const { handle, lines } = serve(() => {
      throw Object.assign(new Error("EMFILE: too many open files"), { code: "EMFILE" });
    });
    const response = await handle(new Request("http://x/thing/1"), "");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(lines).toEqual(["GET /thing/1: 503 out of file descriptors (EMFILE)"]);
  });

  it("logs a refusal at info level, and a failure of the engine at error level", async () => {
    const refused = serve(() => {
      throw badRequest("nope");
    });
    await refused.handle(new Request("http://x/thing/1"), "");
    expect(refused.levels).toEqual(["info"]);
    const failed = serve(() => {
      throw new Error("boom");
    });
    await failed.handle(new Request("http://x/thing/1"), "");
    expect(failed.levels).toEqual(["error"]);
  });

  it("logs the stack of an unexpected error and answers a plain 500", async () => {
    const { handle, lines } = serve(() => {
      throw new Error("boom");
    });
    const response = await handle(new Request("http://x/thing/1"), "");
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "Internal error in the local engine" });
    expect(lines[0]).toMatch(/^GET \/thing\/1 failed: Error: boom\n\s+at /);
  });

  it("tells 405 from 404, strips the mount path and rejects bad percent-encoding", async () => {
    const { handle } = serve(() => new Response("ok"));
    const wrongMethod = await handle(new Request("http://x/thing/1", { method: "POST" }), "");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("Allow")).toBe("GET, OPTIONS");
    expect((await handle(new Request("http://x/other"), "")).status).toBe(404);
    expect((await handle(new Request("http://x/mount/thing/1"), "/mount")).status).toBe(200);
    expect((await handle(new Request("http://x/thing/%E0%A4%A"), "")).status).toBe(400);
  });
});

import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it, vi } from "vitest";
import { serveFetch } from "./serve-fetch.server";

type Handler = Parameters<typeof serveFetch>[0];

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(handler: Handler) {
  const app = express();
  app.use(
    "/mount",
    serveFetch(handler, () => "https://app.example"),
  );
  server = http.createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("serveFetch", () => {
  it("hands the handler the whole request: its origin and full path, method, headers and body", async () => {
    const seen = vi.fn();
    const url = await serve(async (request, req) => {
      seen({
        url: request.url,
        method: request.method,
        type: request.headers.get("content-type"),
        custom: request.headers.get("x-part-id"),
        body: await request.text(),
        ip: req.ip,
      });
      return Response.json({ ok: true }, { status: 201, headers: { "X-Kept": "1" } });
    });
    const response = await fetch(`${url}/mount/realtime/v1/sessions/s1/in/append?x=1`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Part-Id": "p1" },
      body: JSON.stringify({ kind: "message" }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-kept")).toBe("1");
    expect(await response.json()).toEqual({ ok: true });
    expect(seen).toHaveBeenCalledWith({
      url: "https://app.example/mount/realtime/v1/sessions/s1/in/append?x=1",
      method: "POST",
      type: "application/json",
      custom: "p1",
      body: '{"kind":"message"}',
      ip: "127.0.0.1",
    });
  });

  it("sends each of several cookies, and a response without a body", async () => {
    const url = await serve(async () => {
      const headers = new Headers();
      headers.append("Set-Cookie", "a=1");
      headers.append("Set-Cookie", "b=2");
      return new Response(null, { status: 204, headers });
    });
    const response = await fetch(`${url}/mount/x`);
    expect(response.status).toBe(204);
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });

  it("streams an event stream as it is written, and aborts the request when the client leaves", async () => {
    let push!: (text: string) => void;
    let aborted!: Promise<void>;
    const url = await serve(async (request) => {
      aborted = new Promise((resolve) => request.signal.addEventListener("abort", () => resolve()));
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          push = (text) => controller.enqueue(new TextEncoder().encode(text));
        },
      });
      return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
    });
    const client = new AbortController();
    const response = await fetch(`${url}/mount/out`, { signal: client.signal });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    push("data: first\n\n");
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: first\n\n");
    push("data: second\n\n");
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: second\n\n");
    client.abort();
    await expect(aborted).resolves.toBeUndefined();
  });

  it("passes a handler's failure to Express, which answers 500", async () => {
    const url = await serve(async () => {
      throw new Error("boom");
    });
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await fetch(`${url}/mount/x`);
    quiet.mockRestore();
    expect(response.status).toBe(500);
  });
});

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { convertToModelMessages, streamText, type UIMessage } from "ai";
import { createOfflineModel } from "../../../app/lib/ai/offline-model";

/*
 * The plain route handler `npm run bench` compares the app with:
 * `streamText(...).toUIMessageStreamResponse()` on the same offline model,
 * plus the baseline page's static files. Benchmark only; never part of the app.
 */
const [clientDir = "", port = "0"] = process.argv.slice(2);
const model = createOfflineModel({ wordDelayMs: Number(process.env.OFFLINE_MODEL_DELAY_MS ?? 0) });
const TYPES: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html" };

async function handleChat(request: http.IncomingMessage, response: http.ServerResponse) {
  let body = "";
  for await (const chunk of request) body += chunk;
  const { messages } = JSON.parse(body) as { messages: UIMessage[] };
  const result = streamText({ model, messages: await convertToModelMessages(messages) });
  const streamed = result.toUIMessageStreamResponse();
  response.writeHead(streamed.status, Object.fromEntries(streamed.headers));
  const reader = streamed.body!.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) response.write(next.value);
  response.end();
}

const server = http.createServer((request, response) => {
  if (request.method === "POST" && request.url === "/api/chat") {
    handleChat(request, response).catch((error: unknown) => {
      console.error(error);
      response.destroy();
    });
    return;
  }
  const file = path.join(clientDir, request.url === "/" ? "index.html" : path.normalize(request.url ?? "/"));
  if (!file.startsWith(clientDir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
  fs.createReadStream(file).pipe(response);
});
server.listen(Number(port), "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening on ${typeof address === "object" && address ? address.port : port}`);
});
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => server.close(() => process.exit(0)));

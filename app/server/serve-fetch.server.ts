import { writeReadableStreamToWritable } from "@react-router/node";
import type express from "express";
import { fetchRequest } from "../local-trigger/http/listener.server";

type FetchHandler = (request: Request, req: express.Request) => Promise<Response>;

/**
 * Serves a Fetch API handler from Express, streaming the request body in and
 * the response body out (server-sent events flushed at once), as React
 * Router's Express adapter does for routes. The request's signal aborts when
 * the client goes before its response has ended.
 */
export function serveFetch(handle: FetchHandler, originOf: (req: express.Request) => string): express.RequestHandler {
  return (req, res, next) => {
    let request: Request;
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    try {
      request = fetchRequest(req, `${originOf(req)}${req.originalUrl}`, controller.signal);
    } catch (error) {
      next(error);
      return;
    }
    handle(request, req)
      .then((response) => send(res, response))
      .catch(next);
  };
}

async function send(res: express.Response, response: Response) {
  if (res.destroyed || res.writableEnded) {
    await response.body?.cancel();
    return;
  }
  res.status(response.status);
  for (const [name, value] of response.headers) res.append(name, value);
  if (/text\/event-stream/i.test(response.headers.get("Content-Type") ?? "")) res.flushHeaders();
  if (!response.body) {
    res.end();
    return;
  }
  try {
    await writeReadableStreamToWritable(response.body, res);
  } catch (error) {
    // The client left mid-stream: nothing to answer.
    if (res.destroyed || res.writableEnded) return;
    throw error;
  }
}

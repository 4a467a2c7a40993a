/** `GET /healthz`: the process is up and serving. Says nothing else, so anyone may ask. */
export function loader() {
  return Response.json({ status: "ok" }, { headers: { "Cache-Control": "no-store" } });
}

import type { LanguageModelV3Prompt, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { composeOfflineAnswer, createOfflineModel } from "./offline-model";

function userMessage(text: string): LanguageModelV3Prompt[number] {
  return { role: "user", content: [{ type: "text", text }] };
}

function assistantMessage(text: string): LanguageModelV3Prompt[number] {
  return { role: "assistant", content: [{ type: "text", text }] };
}

const twoTurnPrompt: LanguageModelV3Prompt = [
  { role: "system", content: "Be helpful." },
  userMessage("What is Trigger.dev?"),
  assistantMessage("A background jobs platform."),
  userMessage("How do I deploy a chat agent?"),
];

async function readAll(stream: ReadableStream<LanguageModelV3StreamPart>): Promise<LanguageModelV3StreamPart[]> {
  const parts: LanguageModelV3StreamPart[] = [];
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
  return parts;
}

function deltasOf(parts: LanguageModelV3StreamPart[]): string[] {
  return parts.flatMap((part) => (part.type === "text-delta" ? [part.delta] : []));
}

describe("offline model", () => {
  const model = createOfflineModel({ wordDelayMs: 0 });

  it("is a v3 language model from the offline provider", () => {
    expect(model).toMatchObject({ specificationVersion: "v3", provider: "offline", modelId: "offline-chat" });
  });

  it("streams the answer one word per delta, framed by text-start/text-end and a finish with usage", async () => {
    const { stream } = await model.doStream({ prompt: twoTurnPrompt });
    const parts = await readAll(stream);
    const deltas = deltasOf(parts);
    const answer = composeOfflineAnswer(twoTurnPrompt);

    expect(deltas.join("")).toBe(answer);
    expect(deltas.length).toBe(answer.split(/\s+/).length);
    for (const delta of deltas) expect(delta.trim()).not.toMatch(/\s/);

    const types = parts.map((part) => part.type);
    expect(types.slice(0, 2)).toEqual(["stream-start", "text-start"]);
    expect(types.slice(-2)).toEqual(["text-end", "finish"]);
    expect(parts.at(-1)).toMatchObject({
      finishReason: { unified: "stop" },
      usage: { outputTokens: { total: deltas.length } },
    });
  });

  it("quotes the latest user message, counts the turn and explains how to switch to Gemini", () => {
    const answer = composeOfflineAnswer(twoTurnPrompt);

    expect(answer).toContain("> How do I deploy a chat agent?");
    expect(answer).not.toContain("What is Trigger.dev?");
    expect(answer).toContain("turn 2");
    expect(answer).toContain("offline demo model");
    expect(answer).toContain("GOOGLE_GENERATIVE_AI_API_KEY");
    expect(answer).toContain("CHAT_MODEL=google:gemini-2.5-flash");
    expect(answer).toMatch(/^- /m);

    const words = answer.split(/\s+/).length;
    expect(words).toBeGreaterThanOrEqual(40);
    expect(words).toBeLessThanOrEqual(80);
  });

  it("shortens a long message in the quote", () => {
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    const answer = composeOfflineAnswer([userMessage(long)]);

    expect(answer).toContain("> word0 word1");
    expect(answer).toContain("word19…");
    expect(answer).not.toContain("word20");
    expect(answer).toContain("turn 1");
  });

  it("gives the same answer to the same prompt, and a different one to a different prompt", async () => {
    const first = deltasOf(await readAll((await model.doStream({ prompt: twoTurnPrompt })).stream));
    const second = deltasOf(await readAll((await model.doStream({ prompt: twoTurnPrompt })).stream));
    const other = composeOfflineAnswer([userMessage("Something else entirely")]);

    expect(second).toEqual(first);
    expect(other).not.toBe(first.join(""));
  });

  it("returns the same text from doGenerate", async () => {
    const result = await model.doGenerate({ prompt: twoTurnPrompt });

    expect(result.content).toEqual([{ type: "text", text: composeOfflineAnswer(twoTurnPrompt) }]);
    expect(result.finishReason.unified).toBe("stop");
  });

  it("stops streaming as soon as it is aborted", async () => {
    const controller = new AbortController();
    const { stream } = await model.doStream({ prompt: twoTurnPrompt, abortSignal: controller.signal });
    const reader = stream.getReader();
    const received: LanguageModelV3StreamPart[] = [];

    while (deltasOf(received).length < 3) {
      const { value } = await reader.read();
      if (value) received.push(value);
    }
    controller.abort();

    await expect(reader.read()).rejects.toMatchObject({ name: "AbortError" });
    expect(deltasOf(received)).toHaveLength(3);
  });

  it("interrupts a pending word delay when aborted", async () => {
    const slow = createOfflineModel({ wordDelayMs: 60_000 });
    const controller = new AbortController();
    const { stream } = await slow.doStream({ prompt: twoTurnPrompt, abortSignal: controller.signal });
    const reader = stream.getReader();

    expect((await reader.read()).value?.type).toBe("stream-start");
    expect((await reader.read()).value?.type).toBe("text-start");
    const pendingWord = reader.read();
    controller.abort();

    await expect(pendingWord).rejects.toMatchObject({ name: "AbortError" });
  });
});

import type { LanguageModelV3Prompt, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { composeOfflineAnswer, createOfflineModel, planOfflineAnswer } from "./offline-model";

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

  it("quotes the message faithfully: line breaks, markdown and code fences intact", () => {
    const message = "# Plan\n\n1. **Bold** step\n2. `code` step\n\n```ts\nconst x = 1;\n  indented();\n```";
    const answer = composeOfflineAnswer([userMessage(message)]);

    expect(answer).toContain(
      [
        "> # Plan",
        ">",
        "> 1. **Bold** step",
        "> 2. `code` step",
        ">",
        "> ```ts",
        "> const x = 1;",
        ">   indented();",
        "> ```",
      ].join("\n"),
    );
    const quoted = answer
      .split("\n")
      .filter((line) => line.startsWith(">"))
      .map((line) => line.replace(/^> ?/, ""))
      .join("\n");
    expect(quoted).toBe(message);
  });

  it("quotes a very long message up to 2,000 words and says how much it left out", () => {
    const long = Array.from({ length: 2_050 }, (_, i) => `word${i}`).join(" ");
    const answer = composeOfflineAnswer([userMessage(long)]);

    expect(answer).toContain("> word0 word1");
    expect(answer).toContain("word1999…");
    expect(answer).not.toContain("word2000");
    expect(answer).toContain("> (50 more words)");
  });

  it("writes a long markdown answer of about the size asked for, with /long", () => {
    for (const size of [150, 600, 4_000]) {
      const answer = composeOfflineAnswer([userMessage(`/long ${size}`)]);
      const words = answer.split(/\s+/).filter(Boolean).length;
      expect(words, `/long ${size}`).toBeGreaterThanOrEqual(size);
      expect(words, `/long ${size}`).toBeLessThanOrEqual(size + 120);
      expect(answer.match(/^```/gm)!.length % 2, "every fence is closed").toBe(0);
      expect(answer.trimEnd().endsWith("- Restart the agent and send another message.")).toBe(true);
    }
    const longest = composeOfflineAnswer([userMessage("/long")]);
    expect(longest).toMatch(/^## 1\. /m);
    expect(longest).toMatch(/^- Read the /m);
    expect(longest).toMatch(/^\| Step \| Topic \| Status \|$/m);
    for (const language of ["ts", "python", "bash", "json", "sql"]) expect(longest).toContain(`\`\`\`${language}\n`);
    const codeBlocks = longest.match(/^```[a-z]+$/gm)!.length;
    expect(codeBlocks).toBeGreaterThanOrEqual(35);
    expect(codeBlocks).toBeLessThanOrEqual(50);
    expect(composeOfflineAnswer([userMessage("/long")])).toBe(longest);
    expect(composeOfflineAnswer([userMessage("/long 999999")]).split(/\s+/).length).toBeLessThanOrEqual(20_200);
    expect(composeOfflineAnswer([userMessage("please /long")])).toContain("> please /long");
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

  describe("tools and reasoning", () => {
    const tools = new Set(["currentTime", "calculate"]);
    const functionTools = [...tools].map((name) => ({
      type: "function" as const,
      name,
      inputSchema: { type: "object" as const },
    }));

    function toolResult(toolName: string, output: LanguageModelV3Prompt[number]["content"]): LanguageModelV3Prompt {
      return [
        userMessage("What time is it in Tokyo?"),
        {
          role: "assistant",
          content: [{ type: "tool-call", toolCallId: "c1", toolName, input: { timeZone: "Asia/Tokyo" } }],
        },
        { role: "tool", content: output } as LanguageModelV3Prompt[number],
      ];
    }

    it("calls currentTime for a place it knows, or passes the name on as written", () => {
      expect(planOfflineAnswer([userMessage("What time is it in Tokyo?")], tools).toolCall).toEqual({
        toolCallId: "offline-call-1",
        toolName: "currentTime",
        input: { timeZone: "Asia/Tokyo" },
      });
      expect(planOfflineAnswer([userMessage("what's the time in Europe/Paris")], tools).toolCall?.input).toEqual({
        timeZone: "Europe/Paris",
      });
    });

    it("calls calculate with the expression after calculate, compute or convert", () => {
      expect(planOfflineAnswer([userMessage("calculate 12 * (3 + 4)")], tools).toolCall).toMatchObject({
        toolName: "calculate",
        input: { expression: "12 * (3 + 4)" },
      });
      expect(planOfflineAnswer([userMessage("Convert 5 km to mile?")], tools).toolCall?.input).toEqual({
        expression: "5 km to mile",
      });
    });

    it("calls no tool the agent does not offer, and quotes the message instead", () => {
      const plan = planOfflineAnswer([userMessage("calculate 1 + 1")], new Set());
      expect(plan.toolCall).toBeUndefined();
      expect(plan.text).toContain("> calculate 1 + 1");
    });

    it("streams the tool call after its short preamble, and finishes for tool calls", async () => {
      const { stream } = await model.doStream({
        prompt: [userMessage("What time is it in Tokyo?")],
        tools: functionTools,
      });
      const parts = await readAll(stream);
      expect(deltasOf(parts).join("")).toBe("Let me look at the clock in Tokyo.");
      expect(parts.find((part) => part.type === "tool-call")).toEqual({
        type: "tool-call",
        toolCallId: "offline-call-1",
        toolName: "currentTime",
        input: '{"timeZone":"Asia/Tokyo"}',
      });
      expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: { unified: "tool-calls" } });
    });

    it("reports each kind of tool result in words", () => {
      const reported = (output: unknown) =>
        planOfflineAnswer(
          toolResult("currentTime", [
            { type: "tool-result", toolCallId: "c1", toolName: "currentTime", output },
          ] as never),
          tools,
        );
      const time = reported({
        type: "json",
        value: { timeZone: "Asia/Tokyo", local: "Thursday, 3 December 2026 at 21:00", utcOffset: "GMT+9" },
      });
      expect(time.toolCall).toBeUndefined();
      expect(time.text).toContain("In Asia/Tokyo it is Thursday, 3 December 2026 at 21:00 (GMT+9).");
      expect(reported({ type: "execution-denied", reason: "no" }).text).toContain(
        "You declined the currentTime call, so I did not run it.",
      );
      expect(reported({ type: "error-text", value: "boom" }).text).toContain("The currentTime tool failed: boom");
      expect(reported({ type: "json", value: { expression: "1 + 1", result: "2" } }).text).toContain(
        "The currentTime tool returned",
      );
    });

    it("reasons first when asked to think, and only then", async () => {
      const { stream } = await model.doStream({ prompt: [userMessage("Think about it")] });
      const parts = await readAll(stream);
      const types = parts.map((part) => part.type);
      expect(types.slice(0, 2)).toEqual(["stream-start", "reasoning-start"]);
      expect(types.indexOf("reasoning-end")).toBeLessThan(types.indexOf("text-start"));
      expect(planOfflineAnswer([userMessage("Think about it")]).reasoning).toContain("The user asks me to think");
      expect(planOfflineAnswer([userMessage("Rethinking is not thinking")]).reasoning).toBeUndefined();
    });
  });
});

import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Composer } from "./composer";
import { EmptyState, SUGGESTED_PROMPTS } from "./empty-state";

const noop = () => {};

describe("Composer", () => {
  it("has a labelled message box and a Send button that waits for text", () => {
    const html = renderToStaticMarkup(
      <Composer text="" onTextChange={noop} busy={false} onSend={noop} onStop={noop} />,
    );
    const id = /<label for="([^"]+)"[^>]*>Message<\/label>/.exec(html)?.[1];
    expect(id).toBeDefined();
    expect(html).toContain(`<textarea id="${id}"`);
    expect(html).toMatch(/<button type="submit" disabled="" aria-label="Send message"/);
    expect(html).not.toContain("Stop generating");
  });

  it("turns the button into Stop while an answer is on its way", () => {
    const html = renderToStaticMarkup(<Composer text="" onTextChange={noop} busy onSend={noop} onStop={noop} />);
    expect(html).toContain('aria-label="Stop generating"');
    expect(html).not.toContain("Send message");
  });
});

describe("EmptyState", () => {
  it("offers the suggested prompts as buttons", () => {
    const html = renderToStaticMarkup(<EmptyState onPick={noop} />);
    expect(html.match(/data-testid="suggested-prompt"/g)).toHaveLength(SUGGESTED_PROMPTS.length);
    for (const { prompt } of SUGGESTED_PROMPTS) expect(html).toContain(prompt);
  });
});

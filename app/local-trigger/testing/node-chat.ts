import { AbstractChat, type ChatInit, type ChatState, type ChatStatus, type UIMessage } from "ai";

class NodeChatState<M extends UIMessage> implements ChatState<M> {
  status: ChatStatus = "ready";
  error: Error | undefined = undefined;
  messages: M[];
  constructor(initial: M[] = []) {
    this.messages = initial;
  }
  pushMessage = (message: M) => void (this.messages = [...this.messages, message]);
  popMessage = () => void (this.messages = this.messages.slice(0, -1));
  replaceMessage = (index: number, message: M) =>
    void (this.messages = [...this.messages.slice(0, index), message, ...this.messages.slice(index + 1)]);
  snapshot = <T>(value: T): T => structuredClone(value);
}

/** The AI SDK's `AbstractChat` (what `useChat` wraps) hosted outside React, to drive the real transport from tests. */
export class NodeChat<M extends UIMessage = UIMessage> extends AbstractChat<M> {
  constructor(init: ChatInit<M>) {
    super({ ...init, state: new NodeChatState<M>(init.messages) });
  }
}

export const textOf = (message: UIMessage | undefined) =>
  (message?.parts ?? []).map((part) => (part.type === "text" ? part.text : "")).join("");

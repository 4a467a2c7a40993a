import { memo } from "react";
import ReactMarkdown, { type Components, type ExtraProps } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { CopyButton } from "./copy-button";

type Element = NonNullable<ExtraProps["node"]>;
type ElementContent = Element["children"][number];

const components: Components = {
  pre({ node, children }) {
    const code = node?.children.find((child): child is Element => child.type === "element" && child.tagName === "code");
    const language = languageOf(code);
    return (
      <div className="overflow-hidden rounded-xl border border-zinc-800 bg-zinc-900 dark:border-zinc-700/60">
        <div className="flex items-center justify-between border-b border-white/10 px-4 py-1.5 text-xs text-zinc-400">
          <span className="font-mono">{language ?? "text"}</span>
          <CopyButton text={code ? textOf(code) : ""} label="Copy code" className="text-zinc-400 hover:bg-white/10 hover:text-zinc-100" />
        </div>
        <pre className="overflow-x-auto p-4 font-mono text-[13px] leading-6">{children}</pre>
      </div>
    );
  },
  a({ node: _node, href, children, ...props }) {
    // Answers are untrusted text: links open in a new tab and pass no opener or referrer.
    return (
      <a href={href} target="_blank" rel="noopener noreferrer" {...props}>
        {children}
      </a>
    );
  },
};

/** Renders an assistant answer; safe to re-render on every streamed chunk (unfinished Markdown just renders as text). */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={[remarkGfm]} rehypePlugins={[rehypeHighlight]} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});

function languageOf(code: Element | undefined): string | undefined {
  const classes = code?.properties.className;
  if (!Array.isArray(classes)) return undefined;
  const match = classes.map(String).find((name) => name.startsWith("language-"));
  return match?.slice("language-".length);
}

function textOf(node: ElementContent): string {
  if (node.type === "text") return node.value;
  if (node.type === "element") return node.children.map(textOf).join("");
  return "";
}

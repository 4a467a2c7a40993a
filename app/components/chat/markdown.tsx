import { createContext, memo, useContext, useEffect, useRef, useState } from "react";
import ReactMarkdown, { type Components, type ExtraProps } from "react-markdown";
import remarkGfm from "remark-gfm";
import { CopyButton } from "./copy-button";
import { highlightCode, type HighlightedCode } from "./highlight";
import { type MarkdownBlocks, splitMarkdownBlocks } from "./markdown-blocks";

type Element = NonNullable<ExtraProps["node"]>;
type ElementContent = Element["children"][number];

/** False for the block still being written: its code is highlighted once it is complete, not on every word. */
const BlockCompleteContext = createContext(true);

const components: Components = {
  pre({ node }) {
    const code = node?.children.find((child): child is Element => child.type === "element" && child.tagName === "code");
    return <CodeBlock language={languageOf(code)} code={code ? textOf(code).replace(/\n$/, "") : ""} />;
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

const remarkPlugins = [remarkGfm];

/**
 * Renders an assistant answer block by block. While an answer streams, each
 * update parses and renders only the block being written; the blocks before it
 * are memoised on their source, so they are parsed and highlighted once.
 */
export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const blocksRef = useRef<MarkdownBlocks>(undefined);
  if (blocksRef.current?.text !== text) blocksRef.current = splitMarkdownBlocks(text, blocksRef.current);
  const { blocks } = blocksRef.current;
  return (
    <div className="markdown">
      {blocks.map((source, index) => (
        // Blocks only ever grow at the end, so a block's index is its identity.
        <MarkdownBlock key={index} source={source} complete={!streaming || index < blocks.length - 1} />
      ))}
    </div>
  );
}

const MarkdownBlock = memo(function MarkdownBlock({ source, complete }: { source: string; complete: boolean }) {
  return (
    <BlockCompleteContext.Provider value={complete}>
      <ReactMarkdown remarkPlugins={remarkPlugins} components={components}>
        {source}
      </ReactMarkdown>
    </BlockCompleteContext.Provider>
  );
});

/** A fenced code block: plain text at once, colours once the block is complete and the highlighter has loaded. */
function CodeBlock({ language, code }: { language: string | undefined; code: string }) {
  const complete = useContext(BlockCompleteContext);
  const [highlighted, setHighlighted] = useState<{ code: string; html: HighlightedCode }>();
  useEffect(() => {
    if (!complete) return;
    let current = true;
    void highlightCode(code, language).then((html) => {
      if (current && html) setHighlighted({ code, html });
    });
    return () => {
      current = false;
    };
  }, [complete, code, language]);

  return (
    <div className="overflow-hidden rounded-xl border border-zinc-800 bg-zinc-900 dark:border-zinc-700/60">
      <div className="flex items-center justify-between border-b border-white/10 px-4 py-1.5 text-xs text-zinc-400">
        <span data-testid="code-language" className="font-mono">
          {language ?? "text"}
        </span>
        <CopyButton text={code} label="Copy code" className="text-zinc-400 hover:bg-white/10 hover:text-zinc-100" />
      </div>
      <pre className="overflow-x-auto p-4 font-mono text-[13px] leading-6">
        <code className="hljs">{highlighted?.code === code ? highlighted.html : code}</code>
      </pre>
    </div>
  );
}

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

import type { Links, MarkedToken, Token, Tokens } from "marked";
import { createContext, Fragment, memo, type ReactNode, useContext, useEffect, useMemo, useRef, useState } from "react";
import { CopyButton } from "./copy-button";
import { codeKey, highlightCode, type HighlightedCode, ServerHighlightedCode } from "./highlight";
import { lexBlock, type MarkdownBlocks, splitMarkdownBlocks } from "./markdown-blocks";

export { warmUpMarkdownParser } from "./markdown-blocks";

/** False for the block still being written: its code is highlighted once it is complete, not on every word. */
const BlockCompleteContext = createContext(true);

/**
 * Renders an assistant answer block by block. While an answer streams, each
 * update parses and renders only the block being written; the blocks before it
 * are memoised on their source, so they are parsed and highlighted once.
 */
export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const { blocks, links } = useMarkdownBlocks(text);
  return (
    <div className="markdown">
      {blocks.map((source, index) => (
        // Blocks only ever grow at the end, so a block's index is its identity.
        <Fragment key={index}>
          {index > 0 && "\n"}
          <MarkdownBlock source={source} links={links} complete={!streaming || index < blocks.length - 1} />
        </Fragment>
      ))}
    </div>
  );
}

/**
 * `text` cut into blocks, re-parsing only the tail that a streamed update can change. The ref is a cache
 * read during render, which the refs rule forbids; here it is safe, since the result is a pure function
 * of `text` and a stale or discarded entry only costs a full parse (splitMarkdownBlocks checks the prefix).
 */
function useMarkdownBlocks(text: string): MarkdownBlocks {
  const cache = useRef<MarkdownBlocks>(undefined);
  // eslint-disable-next-line react-hooks/refs -- a render-time cache, see above
  if (cache.current?.text !== text) cache.current = splitMarkdownBlocks(text, cache.current);
  // eslint-disable-next-line react-hooks/refs -- a render-time cache, see above
  return cache.current;
}

const MarkdownBlock = memo(function MarkdownBlock({
  source,
  links,
  complete,
}: {
  source: string;
  links: Links;
  complete: boolean;
}) {
  const tokens = useMemo(() => lexBlock(source, links), [source, links]);
  // No wrapper element: the blocks' elements are the .markdown div's children, as its CSS expects.
  return <BlockCompleteContext.Provider value={complete}>{renderBlocks(tokens)}</BlockCompleteContext.Provider>;
});

/**
 * Block elements with a line break between them, and around them in a container, as react-markdown
 * rendered them: the answer's text (textContent, a copied selection) keeps its lines.
 */
function renderBlocks(tokens: Token[], around = false): ReactNode[] {
  const nodes: ReactNode[] = [];
  tokens.forEach((token, index) => {
    const node = renderBlock(token as MarkedToken, index);
    if (node === null) return;
    // A task item's checkbox runs on into its text.
    if (nodes.length > 0 && tokens[index - 1]?.type !== "checkbox") nodes.push("\n");
    nodes.push(node);
  });
  return around && nodes.length > 0 ? ["\n", ...nodes, "\n"] : nodes;
}

function renderBlock(token: MarkedToken, key: number): ReactNode {
  switch (token.type) {
    case "paragraph":
      return <p key={key}>{renderInline(token.tokens)}</p>;
    case "heading": {
      const Heading = `h${token.depth}` as "h1";
      return <Heading key={key}>{renderInline(token.tokens)}</Heading>;
    }
    case "code":
      return <CodeBlock key={key} language={token.lang?.match(/^\S+/)?.[0]} code={token.text} />;
    case "blockquote":
      return <blockquote key={key}>{renderBlocks(token.tokens, true)}</blockquote>;
    case "list":
      return renderList(token, key);
    case "table":
      return renderTable(token, key);
    case "hr":
      return <hr key={key} />;
    case "html":
      // Answers are untrusted: raw HTML is shown as the text it is, never made into elements.
      return <p key={key}>{token.text.trimEnd()}</p>;
    case "text":
      // A tight list item's text: inline content with no paragraph around it.
      return token.tokens ? renderInline(token.tokens, key) : decodeEntities(token.text);
    case "checkbox":
      return <Checkbox key={key} checked={token.checked} />;
    case "space":
    case "def":
      return null;
    default:
      return renderInlineToken(token, key);
  }
}

function renderList(list: Tokens.List, key: number) {
  const items = list.items.flatMap((item, index) => [
    "\n",
    <li key={index} className={item.task ? "task-list-item" : undefined}>
      {renderBlocks(item.tokens, item.loose)}
    </li>,
  ]);
  items.push("\n");
  const className = list.items.some((item) => item.task) ? "contains-task-list" : undefined;
  if (!list.ordered)
    return (
      <ul key={key} className={className}>
        {items}
      </ul>
    );
  const start = list.start === "" || list.start === 1 ? undefined : list.start;
  return (
    <ol key={key} start={start} className={className}>
      {items}
    </ol>
  );
}

function renderTable(table: Tokens.Table, key: number) {
  const style = (cell: Tokens.TableCell) => (cell.align ? { textAlign: cell.align } : undefined);
  return (
    <table key={key}>
      <thead>
        <tr>
          {table.header.map((cell, index) => (
            <th key={index} style={style(cell)}>
              {renderInline(cell.tokens)}
            </th>
          ))}
        </tr>
      </thead>
      {table.rows.length > 0 && (
        <tbody>
          {table.rows.map((row, rowIndex) => (
            <tr key={rowIndex}>
              {row.map((cell, index) => (
                <td key={index} style={style(cell)}>
                  {renderInline(cell.tokens)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      )}
    </table>
  );
}

function renderInline(tokens: Token[], key?: number): ReactNode {
  const children = tokens.map((token, index) => renderInlineToken(token as MarkedToken, index));
  return key === undefined ? children : <Fragment key={key}>{children}</Fragment>;
}

function renderInlineToken(token: MarkedToken, key: number): ReactNode {
  switch (token.type) {
    case "text":
      return token.tokens ? renderInline(token.tokens, key) : decodeEntities(token.text);
    case "escape":
      return token.text;
    case "strong":
      return <strong key={key}>{renderInline(token.tokens)}</strong>;
    case "em":
      return <em key={key}>{renderInline(token.tokens)}</em>;
    case "del":
      return <del key={key}>{renderInline(token.tokens)}</del>;
    case "codespan":
      return <code key={key}>{token.text}</code>;
    case "br":
      return <br key={key} />;
    case "link":
      // Answers are untrusted text: links open in a new tab and pass no opener or referrer.
      return (
        <a
          key={key}
          href={safeUrl(decodeEntities(token.href))}
          title={token.title ? decodeEntities(token.title) : undefined}
          target="_blank"
          rel="noopener noreferrer"
        >
          {renderInline(token.tokens)}
        </a>
      );
    case "image":
      return (
        <img
          key={key}
          src={safeUrl(decodeEntities(token.href)) || undefined}
          alt={plainText(token.tokens)}
          title={token.title ? decodeEntities(token.title) : undefined}
        />
      );
    case "checkbox":
      return <Checkbox key={key} checked={token.checked} />;
    case "html":
      // Inline HTML too shows as text.
      return token.text;
    default:
      // Block tokens never sit inside inline content; anything unforeseen shows as its source.
      return "raw" in token ? token.raw : null;
  }
}

/** The text a reader sees, as an image's alt text (which can hold emphasis or code in markdown). */
function plainText(tokens: Token[]): string {
  return tokens
    .map((token) => {
      if ("tokens" in token && token.tokens) return plainText(token.tokens);
      if (token.type === "text") return decodeEntities(token.text as string);
      return token.type === "escape" || token.type === "codespan" ? (token.text as string) : "";
    })
    .join("");
}

function Checkbox({ checked }: { checked: boolean }) {
  return (
    <>
      <input type="checkbox" disabled checked={checked} />{" "}
    </>
  );
}

const SAFE_PROTOCOL = /^(?:https?|mailto|tel)$/i;

/**
 * Like react-markdown's default urlTransform: relative URLs and http(s), mailto and tel
 * pass, any other protocol (javascript:, data:…) becomes "". A colon after the first
 * "/", "?" or "#" is no protocol.
 */
function safeUrl(url: string): string {
  const colon = url.indexOf(":");
  const path = url.search(/[/?#]/);
  if (colon !== -1 && (path === -1 || colon < path) && !SAFE_PROTOCOL.test(url.slice(0, colon))) return "";
  // Spaces and other characters a URL cannot hold are percent-encoded, as remark did; existing escapes stay.
  try {
    return encodeURI(url).replace(/%25([\da-fA-F]{2})/g, "%$1");
  } catch {
    return url; // a lone surrogate
  }
}

// marked leaves named character references for an HTML renderer to resolve; React shows them as
// typed. The few an answer uses are resolved here, numeric ones all; a full table (2,000 names)
// would outweigh the parser, so a rarer name (&copy;) shows as typed.
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

const ENTITY = /&(?:#(\d{1,7})|#[xX]([\da-fA-F]{1,6})|([a-zA-Z][a-zA-Z\d]{1,31}));/g;

function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(ENTITY, (reference, decimal?: string, hex?: string, name?: string) => {
    if (name !== undefined) return ENTITIES[name] ?? reference;
    const codePoint = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex!, 16);
    const valid = codePoint > 0 && codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff);
    return valid ? String.fromCodePoint(codePoint) : "\uFFFD";
  });
}

/**
 * A fenced code block: in colour at once when the server highlighted it with the page; otherwise plain
 * text at once, and colours once the block is complete and the highlighter has loaded.
 */
function CodeBlock({ language, code }: { language: string | undefined; code: string }) {
  const complete = useContext(BlockCompleteContext);
  const serverHighlighted = useContext(ServerHighlightedCode);
  const fromServer = useMemo(
    () =>
      language && Object.keys(serverHighlighted).length > 0 ? serverHighlighted[codeKey(language, code)] : undefined,
    [serverHighlighted, language, code],
  );
  const [highlighted, setHighlighted] = useState<{ code: string; html: HighlightedCode }>();
  useEffect(() => {
    if (!complete || fromServer !== undefined) return;
    let current = true;
    void highlightCode(code, language).then((html) => {
      if (current && html) setHighlighted({ code, html });
    });
    return () => {
      current = false;
    };
  }, [complete, code, language, fromServer]);
  const html = fromServer ?? (highlighted?.code === code ? highlighted.html : undefined);

  return (
    <div className="overflow-hidden rounded-xl border border-zinc-800 bg-zinc-900 dark:border-zinc-700/60">
      <div className="flex items-center justify-between border-b border-white/10 px-4 py-1.5 text-xs text-zinc-400">
        <span data-testid="code-language" className="font-mono">
          {language ?? "text"}
        </span>
        <CopyButton text={code} label="Copy code" className="text-zinc-400 hover:bg-white/10 hover:text-zinc-100" />
      </div>
      <pre className="overflow-x-auto p-4 font-mono text-[13px] leading-6">
        {/* The highlighter's HTML: the code escaped as text, in spans (highlighter.ts). */}
        {html === undefined ? (
          <code className="hljs">{code}</code>
        ) : (
          <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} />
        )}
      </pre>
    </div>
  );
}

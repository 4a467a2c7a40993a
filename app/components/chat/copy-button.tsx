import { useState } from "react";
import { CheckIcon, CopyIcon } from "./icons";

const COPIED_FEEDBACK_MS = 1500;

export function CopyButton({ text, label, className = "" }: { text: string; label: string; className?: string }) {
  const [copied, setCopied] = useState(false);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard access (permissions or an insecure origin): nothing was copied, so say nothing.
      return;
    }
    setCopied(true);
    setTimeout(() => setCopied(false), COPIED_FEEDBACK_MS);
  }

  return (
    <>
      <button
        type="button"
        onClick={copy}
        aria-label={copied ? "Copied" : label}
        title={copied ? "Copied" : label}
        className={`inline-flex items-center gap-1 rounded-md p-1.5 transition-colors focus-visible:outline-2 focus-visible:outline-indigo-500 ${className}`}
      >
        {copied ? <CheckIcon className="size-3.5" /> : <CopyIcon className="size-3.5" />}
      </button>
      {/* The label change alone is not read out: a live region says it. */}
      <span role="status" className="sr-only">
        {copied ? "Copied" : ""}
      </span>
    </>
  );
}

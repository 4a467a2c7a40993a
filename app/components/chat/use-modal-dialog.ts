import { useEffect, useRef } from "react";

/**
 * Keeps a native <dialog> in step with an `open` prop. showModal() has no
 * declarative form, and it is what gives the dialog focus trapping, Escape
 * and a backdrop.
 */
export function useModalDialog(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return ref;
}

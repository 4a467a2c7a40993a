import { useModalDialog } from "./use-modal-dialog";

/** A left-edge modal panel for small screens, on the native <dialog> for focus trapping and Escape. */
export function Drawer({
  open,
  onClose,
  label,
  children,
}: {
  open: boolean;
  onClose: () => void;
  label: string;
  children: React.ReactNode;
}) {
  const ref = useModalDialog(open);

  return (
    // A click on the dialog itself is a click on its backdrop, for pointers; the keyboard has Escape (onCancel).
    // eslint-disable-next-line jsx-a11y/click-events-have-key-events, jsx-a11y/no-noninteractive-element-interactions
    <dialog
      ref={ref}
      aria-label={label}
      onCancel={onClose}
      onClose={onClose}
      onClick={(event) => {
        if (event.target === event.currentTarget) onClose();
      }}
      className="m-0 h-dvh max-h-none w-[85vw] max-w-xs p-0 shadow-2xl backdrop:bg-zinc-950/40 md:hidden"
    >
      {children}
    </dialog>
  );
}

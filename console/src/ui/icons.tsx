// Icons drawn inline (no emoji font, nothing fetched); always beside words that say the same.

import type { ComponentChildren } from "preact";

function Icon({ children }: { children: ComponentChildren }) {
  return (
    <svg class="icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      {children}
    </svg>
  );
}

/** The internal note's padlock. */
export function LockIcon() {
  return (
    <Icon>
      <path fill="currentColor" d="M4 7V5a4 4 0 1 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 1 0-4 0v2z" />
    </Icon>
  );
}

export function WarningIcon() {
  return (
    <Icon>
      <path fill="currentColor" d="M8 1 15.5 15H.5L8 1zm-1 5v4h2V6H7zm0 5v2h2v-2H7z" />
    </Icon>
  );
}

export function StopIcon() {
  return (
    <Icon>
      <path fill="currentColor" d="M5 1h6l4 4v6l-4 4H5l-4-4V5l4-4zm-1 6v2h8V7H4z" />
    </Icon>
  );
}

export function CheckIcon() {
  return (
    <Icon>
      <path fill="currentColor" d="m6.5 11.2-3.2-3.2L2 9.3l4.5 4.5L14 6.3 12.7 5z" />
    </Icon>
  );
}

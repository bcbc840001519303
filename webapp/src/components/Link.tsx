import type { AnchorHTMLAttributes, MouseEvent } from 'react';
import { isPlainClick, navigate } from '../lib/router.ts';

interface LinkProps extends AnchorHTMLAttributes<HTMLAnchorElement> {
  href: string;
  /** Runs before navigating on a plain click (not for new-tab clicks, which the browser handles). */
  onNavigate?: () => void;
}

/** A same-site link: a plain click navigates in the app; modified clicks open tabs as usual. */
export function Link({ href, onNavigate, onClick, ...rest }: LinkProps) {
  return (
    <a
      href={href}
      {...rest}
      onClick={(e: MouseEvent<HTMLAnchorElement>) => {
        onClick?.(e);
        if (e.defaultPrevented || !isPlainClick(e)) return;
        e.preventDefault();
        onNavigate?.();
        navigate(href);
      }}
    />
  );
}

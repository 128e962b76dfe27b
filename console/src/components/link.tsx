import type { ComponentChildren } from 'preact';
import { href, navigate } from '../router.ts';

interface LinkProps {
  readonly to: string;
  readonly children: ComponentChildren;
  readonly class?: string;
  readonly 'aria-current'?: 'page';
}

/** An ordinary link (open in a new tab, copy) that navigates inside the app on a plain click. */
export function Link({ to, children, ...rest }: LinkProps) {
  return (
    <a
      href={href(to)}
      {...rest}
      onClick={(event) => {
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

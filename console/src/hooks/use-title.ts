import { useEffect } from 'preact/hooks';

/** The tab's title while a page shows (screen readers announce it on navigation too). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Orchestrator console`;
  }, [title]);
}

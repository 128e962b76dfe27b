import { DeadLetters } from '../components/dead-letters.tsx';
import { EventHistory } from '../components/event-history.tsx';
import { Tabs } from '../components/tabs.tsx';
import { TracingOverview } from '../components/tracing-stats.tsx';
import { useTitle } from '../hooks/use-title.ts';
import { navigate } from '../router.ts';

const TABS = [
  { id: 'dead-letters', label: 'Dead letters' },
  { id: 'events', label: 'Recent events' },
  { id: 'traces', label: 'Traces' },
] as const;

/** What operators watch: dead letters (and their retry), the recorded events, traces. */
export function OperationsPage({ query }: { readonly query: URLSearchParams }) {
  useTitle('Operations');
  const tab = TABS.find((candidate) => candidate.id === query.get('tab'))?.id ?? 'dead-letters';
  return (
    <>
      <h1>Operations</h1>
      <Tabs tabs={TABS} selected={tab} label="Operations views" onSelect={(next) => navigate(`/operations?tab=${next}`, { replace: true })}>
        {tab === 'dead-letters' && <DeadLetters />}
        {tab === 'events' && <EventHistory />}
        {tab === 'traces' && <TracingOverview />}
      </Tabs>
    </>
  );
}

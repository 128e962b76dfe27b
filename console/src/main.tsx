import { render } from 'preact';

/** Placeholder until the console's pages land. */
function App() {
  return <main><h1>Orchestrator console</h1></main>;
}

render(<App />, document.getElementById('app')!);

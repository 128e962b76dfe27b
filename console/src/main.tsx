import { render } from 'preact';
import { loadApiUrl } from './api/config.ts';
import { App } from './app.tsx';
import './styles/base.css';
import './styles/surfaces.css';
import './styles/graph.css';
import './styles/editor.css';

const root = document.getElementById('app')!;
loadApiUrl().then((apiUrl) => render(<App apiUrl={apiUrl} />, root));

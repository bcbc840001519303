import { createRoot } from 'react-dom/client';
import { App } from './components/App.tsx';
import { applyStoredTheme } from './lib/theme.ts';
import { bootstrap, watchConnectivity } from './state/actions.ts';
import './styles.css';

applyStoredTheme();
watchConnectivity();
void bootstrap();
createRoot(document.getElementById('root')!).render(<App />);

import { render } from 'preact';
import { App } from './app.tsx';
import { prefetchBotPage } from './pages/BotPage.tsx';
import './style.css';

// A bot's page opened by its address: its data is asked for while the session is checked.
const opened = /^\/bots\/([^/]+)$/.exec(location.pathname);
if (opened) prefetchBotPage(decodeURIComponent(opened[1]!));

render(<App />, document.getElementById('app')!);

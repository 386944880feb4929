// main.jsx — entry point: styles, then the application into #app.
import './style.css';
import { render } from 'preact';
import { App } from './app.jsx';

render(<App />, document.getElementById('app'));

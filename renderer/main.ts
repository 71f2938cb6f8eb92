import { mount } from 'svelte';
import App from './App.svelte';
import ConnectionBanner from './ConnectionBanner.svelte';
import './app.css';
import './typed-cells.css';

mount(App, { target: document.getElementById('app')! });
// outside #app: the banner stays usable while the page is inert
const banner = document.body.appendChild(document.createElement('div'));
mount(ConnectionBanner, { target: banner });

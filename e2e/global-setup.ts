// The e2e tests drive the built renderer: build it once before they start.
import { execSync } from 'node:child_process';

export default function globalSetup(): void {
  execSync('npx vite build --logLevel warn', { stdio: 'inherit' });
}

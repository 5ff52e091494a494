#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader, so a fresh `npm ci` is all the CLI needs.
import { register } from 'tsx/esm/api';

register();
await import('../jobs/main.ts');

#!/usr/bin/env node
// Development entry: runs the TypeScript sources through tsx. The release bundle (npm run build) has its own entry.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');

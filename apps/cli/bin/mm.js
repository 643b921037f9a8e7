#!/usr/bin/env node
// The installed `mm` binary: the compiled CLI (pnpm build). In the repository use `pnpm mm …`,
// which runs the TypeScript sources directly.
import '../dist/src/main.js';

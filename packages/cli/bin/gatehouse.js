#!/usr/bin/env node
// The installed `gatehouse` command: runs the built CLI. A file of its own (not dist/bin.js) so that
// npm links it even before the package is built (in this repository: npm run build first).
await import('../dist/bin.js');

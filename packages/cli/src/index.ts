export { run } from './cli.js';
export { addLines, detectProject, type Project, starterConfig } from './init.js';
export { type Io, processIo } from './io.js';

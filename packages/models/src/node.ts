// Node-only entry: sources that use node:fs.
export { NodeDirSource } from './loading/node-dir-source.js';

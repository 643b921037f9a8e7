export { CliContext } from './context.js';
export { buildProgram } from './program.js';

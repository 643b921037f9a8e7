import { enableCompileCache, flushCompileCache } from 'node:module';

/*
 * The process's entry point. V8 keeps the code it compiled for the app's modules on disk between
 * starts (node:module's compile cache, in NODE_COMPILE_CACHE or the OS temp dir), so a process
 * started again — after a crash, by a supervisor, in a deploy — compiles less before it is ready.
 * The app is imported only afterwards, so its whole module graph is compiled with the cache on (a
 * static import would be compiled before this line runs), and the cache is written as soon as the
 * graph is loaded: a process that is later killed (SIGKILL) never reaches the write at exit.
 */
enableCompileCache();
await import('./run.js');
flushCompileCache();

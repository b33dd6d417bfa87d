/**
 * What every command's run needs besides its action, loaded by lazyAction as one import: as one
 * entry for the bundler, these land in fewer chunks than three separate imports would make.
 */
export { buildCli } from './context.js';
export { guardInterrupts } from './interrupt.js';
export { closeSharedStores } from '../state/store.js';

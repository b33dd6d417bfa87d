import type { ShellAction } from './actions.js';

/**
 * Further entries for the panel menu, shown after "Remove a user" and before the audit view.
 * Test mode start/stop belong here. An entry loads its operation lazily and, for a change,
 * takes its context from `shell.writeContext()` (operator and ticket, asked once per session):
 *
 *   {
 *     label: 'Start test mode',
 *     unavailable: (panel) => (panel.driver.capabilities.includes('test-mode') ? undefined : '(this panel has no test mode)'),
 *     async run(shell, panel) {
 *       const ctx = await shell.writeContext();
 *       const minutes = await askText('For how long?', { default: '45m' });   // from ../prompts.js
 *       const { startTestMode } = await import('../../operations/test-mode.js');
 *       await busy(`putting ${panel.target.name} on test`, 'write', () => startTestMode(panel.target, ctx, { ... }));  // from ./ui.js
 *     },
 *   },
 *
 * Ctrl-C at a prompt inside `run` returns to the menu; an error thrown is shown and the menu comes back.
 */
export const extraActions: ShellAction[] = [];

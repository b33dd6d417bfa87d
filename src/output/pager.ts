import { spawn } from 'node:child_process';

/**
 * Shows long text through a pager, the way git does: only when stdout is a terminal, with $PAGER
 * (run by the shell, so `less -S` works) or `less`, and LESS=FRX unless set (quit if it fits one
 * screen, keep colours, leave the text on screen). PAGER=cat or an empty PAGER turns it off; a pager
 * that cannot start is skipped, never an error.
 */
export async function page(text: string, options: { enabled: boolean }): Promise<void> {
  const pager = process.env.PANELCTL_PAGER ?? process.env.PAGER ?? 'less';
  if (!options.enabled || !process.stdout.isTTY || !pager.trim() || pager.trim() === 'cat') {
    process.stdout.write(text);
    return;
  }
  // Ctrl-C belongs to the pager while it runs (less uses it to stop a search), as in git.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  try {
    const shown = await new Promise<boolean>((resolve) => {
      const child = spawn(pager, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, LESS: process.env.LESS ?? 'FRX' } });
      child.on('error', () => resolve(false));
      child.stdin.on('error', () => {}); // the pager quit before reading everything (q): fine
      child.on('close', (code) => resolve(code !== 127)); // 127: the shell found no such command
      child.stdin.end(text);
    });
    if (!shown) process.stdout.write(text);
  } finally {
    process.off('SIGINT', ignore);
  }
}

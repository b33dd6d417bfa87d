import xterm from '@xterm/headless';

/**
 * What a terminal would show after receiving `output`: a headless xterm.js (the emulator of
 * VS Code's terminal) of the same size replays it, so cursor moves and clears take effect.
 * Returns every row, scrollback included, as text.
 */
export async function screenRows(output: string, size: { cols: number; rows: number }): Promise<string[]> {
  const terminal = new xterm.Terminal({ cols: size.cols, rows: size.rows, scrollback: 10_000, allowProposedApi: true });
  // node-pty hands over what a real terminal gets: \n as the program wrote it, turned into CR LF by the tty.
  await new Promise<void>((resolve) => terminal.write(output, resolve));
  const buffer = terminal.buffer.active;
  const rows: string[] = [];
  for (let i = 0; i < buffer.length; i++) rows.push(buffer.getLine(i)?.translateToString(true) ?? '');
  terminal.dispose();
  return rows;
}

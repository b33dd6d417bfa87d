/** One style: the text wrapped in its terminal codes, or the text as is when colour is off. */
type Paint = (text: string) => string;

/**
 * The styles panelctl paints with, named as chalk names them (a chalk instance is one). Output
 * carries one: chalk's for a terminal that wants colour, PLAIN otherwise.
 */
export interface Palette {
  readonly level: number;
  readonly bold: Paint;
  readonly dim: Paint;
  readonly green: Paint;
  readonly red: Paint & { readonly bold: Paint };
  readonly yellow: Paint & { readonly bold: Paint };
}

const same: Paint = (text) => text;

/** No colour: every style gives its text back unchanged, as chalk does at level 0. */
export const PLAIN: Palette = {
  level: 0,
  bold: same,
  dim: same,
  green: same,
  red: Object.assign((text: string) => text, { bold: same }),
  yellow: Object.assign((text: string) => text, { bold: same }),
};

/**
 * The palette for a run. chalk is loaded only when colour is wanted: importing it probes the
 * terminal (node:tty, the environment), a few ms that `-o json`, pipes and NO_COLOR never need.
 */
export async function paletteFor(color: boolean): Promise<Palette> {
  if (!color) return PLAIN;
  const { Chalk } = await import('chalk');
  return new Chalk({ level: 1 });
}

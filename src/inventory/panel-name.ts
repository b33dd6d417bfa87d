/**
 * Panel names, in the inventory and ad hoc (`--panel NAME --link ...`): they end up in the audit,
 * file names and terminals. Apart from schema.ts so that checking an ad hoc name needs no zod.
 */
export const PANEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const PANEL_NAME_RULE = 'panel names are 1-64 letters, digits, . _ - (starting with a letter or digit)';

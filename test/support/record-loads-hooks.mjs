// Loader hooks for record-loads.mjs (they run on the loader's own thread).
import fs from 'node:fs';

let out;
export function initialize(data) {
  out = data.out;
}

export async function load(url, context, next) {
  const result = await next(url, context);
  const text = result.source ? String(result.source) : '';
  const sources = text.match(/^\/\/ (src|drivers|node_modules)\/\S+/gm) ?? [];
  fs.appendFileSync(out, `${[`file ${url}`, ...sources.map((s) => `source ${s.slice(3)}`)].join('\n')}\n`);
  return result;
}

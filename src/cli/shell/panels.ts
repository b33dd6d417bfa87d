import type { Target } from '../../inventory/targets.js';
import { nearness } from '../../inventory/fuzzy.js';
import type { MenuChoice } from './ui.js';

/**
 * Finding the customer's panel while they are on the phone: every word typed must match the
 * panel's name, a tag (key, value or key=value), the customer, the account number, the
 * description or the driver. Name matches come first, then account, then the rest. When no
 * panel matches every word exactly, a typo is forgiven ("olso" finds oslo-office), ranked after.
 */

function haystack(target: Target): string[] {
  return [
    target.name,
    target.account ?? '',
    target.customer ?? '',
    target.description ?? '',
    target.driver,
    ...Object.entries(target.tags).flatMap(([key, value]) => [key, value, `${key}=${value}`]),
  ].map((s) => s.toLowerCase());
}

/** 0 = best. Undefined when some word matches nothing. */
function rank(target: Target, words: string[]): number | undefined {
  const fields = haystack(target);
  let score = 0;
  for (const word of words) {
    if (!fields.some((f) => f.includes(word))) return undefined;
    if (target.name.toLowerCase().startsWith(word) || target.account === word) continue;
    score += target.name.toLowerCase().includes(word) ? 1 : 2;
  }
  return score;
}

/** Every word within its typo budget of some word of the panel's name, customer or account; undefined otherwise. */
function fuzzyRank(target: Target, words: string[]): number | undefined {
  let score = 0;
  for (const word of words) {
    const distance = nearness(word, [target.name, target.customer ?? '', target.account ?? '']);
    if (distance === undefined) return undefined;
    score += 10 + distance;
  }
  return score;
}

export function findPanels(targets: readonly Target[], term: string): Target[] {
  const words = term.toLowerCase().split(/\s+/).filter(Boolean);
  const exact = sorted(targets, (target) => rank(target, words));
  return exact.length || !words.length ? exact : sorted(targets, (target) => fuzzyRank(target, words));
}

function sorted(targets: readonly Target[], score: (target: Target) => number | undefined): Target[] {
  return targets
    .map((target, index) => ({ target, index, score: score(target) }))
    .filter((r): r is { target: Target; index: number; score: number } => r.score !== undefined)
    .sort((a, b) => a.score - b.score || a.index - b.index)
    .map((r) => r.target);
}

/** One line per panel: name, then who and where, so two similar names are told apart. */
export function panelLabel(target: Target): string {
  const facts = [target.customer, target.account && `account ${target.account}`, target.demo ? 'built-in demo' : target.link.url].filter(Boolean);
  return `${target.name}  (${facts.join(', ')})`;
}

export function panelChoices(targets: readonly Target[], term: string): MenuChoice<string>[] {
  const found = findPanels(targets, term);
  if (!found.length) return [{ value: '', name: `no panel matches "${term}"`, disabled: '(try a name, account number, customer or tag)' }];
  return found.map((target) => ({
    value: target.name,
    name: panelLabel(target),
    description: [
      target.description,
      Object.entries(target.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ]
      .filter(Boolean)
      .join('  '),
  }));
}

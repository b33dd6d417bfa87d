import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/load.js';

/**
 * The stations' schema is built when an inventory first has a station to check (src/inventory/schema.ts, z.lazy):
 * what it says about a bad one is what the schema built up front said, field and rule.
 */
const problems = (yaml: string): string[] => {
  try {
    parseInventory(yaml, 't', ['integra']);
    return [];
  } catch (error) {
    return (error as { data: { problems: Array<{ field: string; rule: string }> } }).data.problems.map((p) => `${p.field}: ${p.rule}`);
  }
};
const panel = (station: string) => `panels:\n  a: { driver: integra, link: "tcp://10.0.0.1:7094", station: ${station} }\n`;

describe('inventory stations', () => {
  it("a panel's own station is checked by kind: a webhook's secret reference and URL, an unknown kind", () => {
    expect(problems(panel('{ type: webhook, url: "http://example.com/x", secret: "nope" }'))).toEqual([
      'panel "a", field "station.secret": must be env:VARIABLE, file:PATH or prompt (a secret is never written in the inventory)',
      'panel "a", field "station.url": must be https:// (http:// only to a loopback address, or with insecure: true on the station)',
    ]);
    expect(problems(panel('{ type: pager }'))).toEqual(['panel "a", field "station": Invalid input']);
    expect(problems(panel('5'))).toEqual(['panel "a", field "station": Invalid input']);
    expect(problems(panel('{ type: webhook, url: "https://example.com/x", secret: env:KEY }'))).toEqual([]);
  });

  it('named stations and the default station are checked with the same rules', () => {
    expect(problems('stations:\n  s1: { type: command, command: [] }\n  s2: { type: command, command: [x], env: ["1A"] }\npanels: {}\n')).toEqual([
      'stations.s1.command: must name the program to run',
      'stations.s2.env.0: must be environment variable names',
    ]);
    expect(problems('stations:\n  ok: { type: webhook, url: "https://example.com/x", secret: env:K, timeoutMs: -1 }\npanels: {}\n')).toEqual([
      'stations.ok.timeoutMs: Too small: expected number to be >0',
    ]);
    expect(problems('defaults:\n  station: { type: command }\npanels: {}\n')).toEqual(['defaults.station: Invalid input']);
    expect(parseInventory('defaults:\n  station: { type: manual }\npanels: {}\n', 't', ['integra']).defaults?.station).toEqual({ type: 'manual' });
  });
});

import type { DriverFacets, DriverInfo, PanelSession, Proof } from '../core/contract.js';

/**
 * Whether a session offers what its driver declared (DriverInfo.facets): the declaration is what
 * the CLI refuses or offers by before connecting, so a session that differs is a driver bug, caught
 * here once instead of guarded against in every operation. Returns what differs, or undefined.
 */
export function facetMismatch(info: DriverInfo, session: PanelSession): string | undefined {
  const declared = info.facets;
  const offered: Record<keyof Omit<DriverFacets, 'probe'>, boolean> = {
    writer: session.writer !== undefined,
    reader: session.reader !== undefined,
    codeChecker: session.codeChecker !== undefined,
    testMode: session.testMode !== undefined,
  };
  for (const [facet, present] of Object.entries(offered)) {
    const wanted = Boolean(declared[facet as keyof typeof offered]);
    if (present !== wanted) return `${present ? 'offers' : 'lacks'} ${facet}, which its description ${wanted ? 'declares' : 'does not declare'}`;
  }
  const proofs = declared.writer?.proofs;
  if (proofs) {
    const expected = proofsOffered(declared);
    if (proofs.join(',') !== expected.join(',')) return `proves writes by ${expected.join(', ')}, not by ${proofs.join(', ')} as declared`;
  }
  return undefined;
}

/** The proofs a writer with these facets can give, strongest first: the code checker, then read-back, else the acknowledgement. */
export function proofsOffered(facets: Pick<DriverFacets, 'reader' | 'codeChecker'>): Proof[] {
  const proofs: Proof[] = [];
  if (facets.codeChecker) proofs.push('code-check');
  if (facets.reader) proofs.push('read-back');
  if (!proofs.length) proofs.push('panel-ack');
  return proofs;
}

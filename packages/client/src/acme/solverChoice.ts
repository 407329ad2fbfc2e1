/**
 * A solver per authorization (lego's SolverManager model): the caller gives a list of solvers in
 * order of preference; each authorization is worked by the first one whose challenge type the
 * server offers for it and which accepts its identifier. One solver alone behaves as before.
 */
import type { ChallengeContext, Solver } from '../challenges/types.js';
import { UsageError } from '../errors.js';
import type { Identifier } from '../identifiers.js';
import { authorizationName } from './errors.js';
import type { Authorization, Challenge } from './types.js';

/** True when `solver` accepts the identifier (its `check` does not refuse it). */
function accepts(solver: Solver, id: Identifier): boolean {
  if (!solver.check) return true;
  try {
    solver.check([id]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Before ordering: every identifier must be acceptable to at least one solver. With one solver
 * its own check runs (and its error lists every identifier it refuses); with several, the first
 * solver's check runs on the identifiers none of them accepts.
 */
export function checkSolvable(solvers: readonly Solver[], identifiers: readonly Identifier[]): void {
  if (solvers.length === 0) throw new UsageError('no challenge solver given');
  if (solvers.length === 1) {
    solvers[0]!.check?.([...identifiers]);
    return;
  }
  const unsolvable = identifiers.filter((id) => !solvers.some((s) => accepts(s, id)));
  if (unsolvable.length > 0) solvers[0]!.check?.(unsolvable);
}

export interface SolverChoice {
  solver: Solver;
  challenge: Challenge;
}

/** The solver and challenge for one pending authorization; UsageError when none fits. */
export function chooseSolver(solvers: readonly Solver[], authz: Authorization): SolverChoice {
  const id: Identifier = { type: authz.identifier.type, value: authorizationName(authz) };
  for (const solver of solvers) {
    const challenge = authz.challenges.find((c) => c.type === solver.type);
    if (challenge && accepts(solver, id)) return { solver, challenge };
  }
  const wanted = [...new Set(solvers.map((s) => s.type))].join(' or ');
  const offered = authz.challenges.map((c) => c.type).join(', ') || 'none';
  throw new UsageError(`the server offers no ${wanted} challenge for ${id.value} (offered: ${offered})`);
}

/** A prepared unit of work: the context handed to the solver, and which solver it is. */
export interface Assignment {
  ctx: ChallengeContext;
  solver: Solver;
}

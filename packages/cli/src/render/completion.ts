/** `completion`: the script itself, nothing around it (it is meant for `source <(…)` or a file). */
import type { CompletionResult } from '../results.js';
import type { TextOutput } from './text.js';

export function renderCompletion(r: CompletionResult, o: TextOutput): void {
  o.out(r.script.replace(/\n$/, ''));
}

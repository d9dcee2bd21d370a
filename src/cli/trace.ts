import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { PATHS } from '../device/provision/layout.ts';
import { EXIT, RegtermError, UsageError, errorMessage } from '../lib/errors.ts';
import { reactionTimes, type ReactionTimes } from '../session/reaction-times.ts';
import { renderReport } from '../session/report-svg.ts';
import { TraceStore } from '../session/trace-store.ts';
import { writeJson, type CommandContext } from './command.ts';

export const USAGE = `usage: regterm trace SESSION_ID [--config FILE] [--json] [--report FILE.html]
       regterm trace --list [--config FILE] [--json]
       regterm trace --reactions [--config FILE] [--json]

A past session's numeric trace, as kept on this terminal (stateDir/traces): per frame the yaw, eye openness, lid
opening, anti-spoof score and face luminance, the prompts, challenge and state events, the thresholds and the
decision. Never an image, a landmark set or an embedding. --report renders it like 'regterm replay --report'
(without thumbnails). --list shows the kept sessions, newest first. --reactions reads every kept trace: per
challenge, how soon after the prompt the answers started (p50, p90, max ms) and, for failed challenges, motions of
the asked kind that started outside the reaction window (the policy's blink.startWithinMs and
turn.prompted.startWithinMs). --config: default ${PATHS.config} when present.
`;

export async function run(ctx: CommandContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: ctx.argv, allowPositionals: true, strict: true, options: {
      config: { type: 'string' }, json: { type: 'boolean', default: false }, report: { type: 'string' }, list: { type: 'boolean', default: false },
      reactions: { type: 'boolean', default: false },
    } });
  } catch (e: unknown) {
    throw new UsageError(`${errorMessage(e)}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const overAll = values.list || values.reactions;
  if ((values.list && values.reactions) || (overAll ? positionals.length > 0 : positionals.length !== 1)) throw new UsageError(USAGE);
  const config = loadConfig({ file: values.config ?? (existsSync(PATHS.config) ? PATHS.config : undefined), env: ctx.env });
  const store = new TraceStore(config.stateDir, { keepSessions: config.trace.keepSessions, keepDays: config.trace.keepDays,
    maxTotalBytes: config.trace.maxTotalMB * 1e6 });
  if (values.list) {
    const kept = store.list().map((e) => ({ sessionId: e.sessionId, savedAt: new Date(e.savedAt).toISOString(), bytes: e.bytes }));
    if (values.json) writeJson(ctx.stdout, kept);
    else ctx.stdout.write(kept.map((e) => `${e.savedAt}  ${e.sessionId}  ${e.bytes} B\n`).join('') || 'no session traces kept\n');
    return EXIT.ok;
  }
  if (values.reactions) {
    const kept = store.list().flatMap((e) => store.load(e.sessionId) ?? []);
    const r = reactionTimes(kept);
    if (values.json) writeJson(ctx.stdout, r);
    else ctx.stdout.write(reactionLines(r));
    return EXIT.ok;
  }
  const sessionId = positionals[0];
  const trace = store.load(sessionId);
  if (!trace) throw new RegtermError(`no trace kept for session '${sessionId.slice(0, 80)}' in ${store.dir}`, EXIT.usage);
  if (values.report) {
    const title = `regterm trace ${sessionId}${trace.decision ? `: ${trace.decision.decision} (${trace.decision.decidedBy})` : ''}`;
    await writeFile(values.report, renderReport({ title, notes: trace.startedAt ? [`started ${trace.startedAt}`] : [] }, trace, []), { mode: 0o600 });
  }
  if (values.json || !values.report) writeJson(ctx.stdout, trace);
  return EXIT.ok;
}

/** One line per challenge type: answers and their start times, failures and the motions outside the window. */
function reactionLines(r: ReactionTimes): string {
  const lines = Object.entries(r.challenges).map(([type, c]) => {
    const starts = c.answerStartMs ? `, answer started p50 ${c.answerStartMs.p50} / p90 ${c.answerStartMs.p90} / max ${c.answerStartMs.max} ms after the prompt` : '';
    const outside = c.outsideWindowStartMs.length > 0 ? `; outside the window: ${c.outsideWindowStartMs.join(', ')} ms` : '';
    return `${type}: ${c.answered} answered${starts}; ${c.failed} failed${outside}\n`;
  });
  return `${r.sessions} session traces\n${lines.join('')}`;
}

import type { CommandModule } from './command.ts';

interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
}

/** The command table (DESIGN.md §7). Each command lives in its own file and is loaded only when used. */
export const COMMANDS: Record<string, CommandEntry> = {
  run: { summary: 'the agent: run --config FILE (broker link, sessions on request, systemd watchdog)', load: () => import('./run.ts') },
  demo: { summary: 'one full registration on a recorded clip: embedded broker, carrier stand-in, LEDs in the terminal', load: () => import('./demo.ts') },
  analyze: { summary: 'faces, landmarks, pose, eyes, quality and anti-spoof per image', load: () => import('./analyze.ts') },
  match: { summary: '1:1 similarity of two photos', load: () => import('./match.ts') },
  eval: { summary: 'eval verify --pairs CSV | eval antispoof --labels CSV: threshold calibration; eval pose --labels CSV: head-pose accuracy; eval events DIR...: blinks and turns on annotated clips', load: () => import('./eval.ts') },
  bench: { summary: 'per-model and per-frame latency, peak RSS', load: () => import('./bench.ts') },
  'verify-result': { summary: 'verify a signed result with the device public key (carrier side)', load: () => import('./verify-result.ts') },
  carrier: { summary: 'carrier keygen --out DIR | carrier request ...: carrier-side keys and signed requests', load: () => import('./carrier.ts') },
  record: { summary: 'record camera frames, LED prompts and button events (or --import a video + events CSV)', load: () => import('./record.ts') },
  provision: { summary: 'provision --root DIR --device-id ID --broker URL --carrier-key PUB.pem: service user, keys, CSR, config, units', load: () => import('./provision.ts') },
  release: { summary: 'release keygen --out DIR | release sign TARBALL --key KEY | release verify: release-signing keys', load: () => import('./release.ts') },
  update: { summary: 'update apply FILE|URL | update status: signed release install, switch, trial with automatic rollback', load: () => import('./update.ts') },
  trace: { summary: 'trace SESSION_ID [--report FILE.html] | trace --list: a past session\'s numeric trace (never images)', load: () => import('./trace.ts') },
  config: { summary: 'the effective configuration and the layer each value comes from (config.json < conf.d < remote < env)', load: () => import('./config.ts') },
  doctor: { summary: 'self-test: camera, LEDs/buttons, models, clock, disk (pass/fail table)', load: () => import('./doctor.ts') },
  replay: { summary: 'a session (or --events-only) on a recording dir or video file; --json, --report FILE.html', load: () => import('./replay.ts') },
};

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Agent, type Component } from '../../../src/lib/agent.ts';
import { createLogger } from '../../../src/lib/logger.ts';

function sinkLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

function component(name: string, events: string[], opts: { failStop?: boolean; onStart?: () => Promise<void> } = {}): Component {
  return {
    name,
    async start() {
      events.push(`start ${name}`);
      await opts.onStart?.();
    },
    async stop() {
      events.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} would not stop`);
    },
  };
}

describe('Agent', () => {
  it('starts in order and stops in reverse, once', async () => {
    const events: string[] = [];
    const { logger } = sinkLogger();
    const agent = new Agent([component('a', events), component('b', events), component('c', events)], logger);
    await agent.start();
    const [x, y] = await Promise.all([agent.stop('SIGTERM'), agent.stop('SIGINT')]);
    expect([x, y]).toEqual([0, 0]);
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('keeps stopping after a failing stop, logs it under err and returns non-zero', async () => {
    const events: string[] = [];
    const { logger, lines } = sinkLogger();
    const agent = new Agent([component('a', events), component('b', events, { failStop: true })], logger);
    await agent.start();
    expect(await agent.stop('test')).toBe(1);
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    const failure = lines.find((l) => l.component === 'b' && l.level === 50);
    expect((failure?.err as { message: string }).message).toBe('b would not stop');
  });

  it('a stop during start stops only what was entered and starts nothing more', async () => {
    const events: string[] = [];
    const { logger } = sinkLogger();
    let agent: Agent | undefined;
    const slow = component('b', events, { onStart: async () => void (await agent?.stop('SIGTERM')) });
    agent = new Agent([component('a', events), slow, component('c', events)], logger);
    await agent.start();
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });
});

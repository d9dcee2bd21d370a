import { describe, expect, it } from 'vitest';
import { panelPattern } from '../../../src/session/prompt-pattern.ts';

describe('panelPattern', () => {
  it('prompt patterns keep only the LEDs the panel has', () => {
    const def = panelPattern({ kind: 'sequence', steps: [{ on: ['look'], ms: 500 }, { on: ['look', 'light'], ms: 200 }] }, ['look', 'busy']);
    expect(def.pattern).toEqual({ kind: 'sequence', steps: [{ on: ['look'], ms: 500 }, { on: ['look'], ms: 200 }] });
    expect(panelPattern({ kind: 'steady', on: ['look', 'light'] }, ['look']).pattern).toEqual({ kind: 'steady', on: ['look'] });
  });
});

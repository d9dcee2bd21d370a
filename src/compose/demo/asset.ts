import { join } from 'node:path';
import { APP_ROOT } from '../../app-root.ts';

/**
 * The product's own demo asset (models/demo/SOURCE.md: source, licence, changes), so a plain clone runs `regterm demo`
 * and `regterm bench` without any development data: a few seconds of one person, and its frame 1 s before the end.
 */
export const DEMO_CLIP = join(APP_ROOT, 'models', 'demo', 'clip.mp4');
export const DEMO_REFERENCE = join(APP_ROOT, 'models', 'demo', 'reference.jpg');

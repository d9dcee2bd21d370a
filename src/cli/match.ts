/** regterm match A B [--json] [--single] [--models-dir DIR]: `{ similarity, threshold, same }` of the largest faces. */
import { UsageError } from '../lib/errors.ts';
import { FaceEngine } from '../vision/engine.ts';
import { readImageFile } from '../vision/image-file.ts';
import { type CommandContext, parseCommandArgs, writeJson } from './command.ts';

export const USAGE = `usage: regterm match A B [--json] [--single] [--models-dir DIR]
1:1 similarity of the largest face in each photo: { similarity, threshold, same }. --single refuses a photo with
more than one face (as a reference photo must).`;

export async function run(ctx: CommandContext): Promise<number> {
  const parsed = parseCommandArgs('match', {
    args: ctx.argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      // refuse a photo with more than one face instead of taking the largest (reference photos)
      single: { type: 'boolean', default: false },
      'models-dir': { type: 'string' },
    },
  });
  if (parsed.positionals.length !== 2) throw new UsageError(USAGE);
  const engine = new FaceEngine({ modelsDir: parsed.values['models-dir'] });
  await engine.start();
  try {
    const templates = [];
    for (const file of parsed.positionals) {
      const img = await readImageFile(file);
      const faces = await engine.analyzeFrame(img, { maxFaces: parsed.values.single ? 2 : 1 });
      if (faces.length === 0) throw new UsageError(`${file}: no face found`);
      if (faces.length > 1) {
        throw new UsageError(`${file}: more than one face; exactly one is required`);
      }
      templates.push(await engine.embed(img, faces[0]));
    }
    const { similarity, perEmbedder } = engine.compare(templates[0], templates[1]);
    const threshold = engine.fusion.threshold;
    const same = similarity >= threshold;
    if (parsed.values.json) {
      writeJson(ctx.stdout, { similarity, threshold, same, perEmbedder });
    } else {
      ctx.stdout.write(`similarity ${similarity.toFixed(4)} threshold ${threshold} -> ${same ? 'same' : 'different'}\n`);
    }
    return 0;
  } finally {
    await engine.stop();
  }
}

/** regterm analyze IMAGE... [--json] [--models-dir DIR]: faces, landmarks, pose, eyes, quality, anti-spoof per image. */
import { UsageError } from '../lib/errors.ts';
import { FaceEngine } from '../vision/engine.ts';
import { faceToJson } from '../vision/face-json.ts';
import { readImageFile } from '../vision/image-file.ts';
import { type CommandContext, parseCommandArgs, writeJson } from './command.ts';

export const USAGE = `usage: regterm analyze IMAGE... [--json] [--models-dir DIR]
Per image: faces (largest first) with box, score, 68 landmarks, yaw/pitch/roll, eye state, quality and anti-spoof score.`;

export async function run(ctx: CommandContext): Promise<number> {
  const parsed = parseCommandArgs('analyze', {
    args: ctx.argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'models-dir': { type: 'string' } },
  });
  const files = parsed.positionals;
  if (files.length === 0) throw new UsageError(USAGE);
  const engine = new FaceEngine({ modelsDir: parsed.values['models-dir'] });
  await engine.start();
  try {
    const images = [];
    for (const file of files) {
      const img = await readImageFile(file);
      const faces = (await engine.analyzeFrame(img)).map(faceToJson);
      images.push({ file, width: img.width, height: img.height, faces });
    }
    if (parsed.values.json) {
      writeJson(ctx.stdout, { images });
    } else {
      for (const im of images) {
        ctx.stdout.write(`${im.file}: ${im.width}x${im.height}, ${im.faces.length} face(s)\n`);
        for (const f of im.faces) {
          const b = f.box;
          ctx.stdout.write(
            `  box ${b.x1},${b.y1}-${b.x2},${b.y2} score ${f.score} yaw ${f.pose.yaw} pitch ${f.pose.pitch} ` +
              `roll ${f.pose.roll} eyes L ${f.eyes.left} R ${f.eyes.right} antispoof ${f.antispoof} ` +
              `sharpness ${f.quality.sharpness}\n`,
          );
        }
      }
    }
    return 0;
  } finally {
    await engine.stop();
  }
}

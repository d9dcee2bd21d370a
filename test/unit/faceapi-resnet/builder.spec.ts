import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildFaceapiResnet, DEFAULT_OUT, FACEAPI_DIR } from '../../../scripts/build-faceapi-resnet.ts';
import { readTfjsWeights } from '../../../scripts/faceapi-weights.ts';
import { encodeModel } from '../../../scripts/onnx-proto.ts';
import { FACEAPI_RESNET } from '../../../scripts/faceapi-embedder.ts';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('onnx-proto encoder', () => {
  it('writes a model onnxruntime runs: Conv with pads/strides, Pad with int64 pads, Cast from uint8', async () => {
    // y = Pad(Conv(x, Cast(Wq)) + B, pads) on a 1x1x3x3 input; every field kind the builder uses.
    const bytes = encodeModel({
      irVersion: 8,
      opset: 13,
      producerName: 'test',
      producerVersion: '0',
      docString: '',
      graph: {
        name: 'g',
        nodes: [
          { opType: 'Cast', name: 'w', inputs: ['wq'], outputs: ['w'], attributes: [{ name: 'to', i: 1 }] },
          {
            opType: 'Conv', name: 'c', inputs: ['x', 'w', 'b'], outputs: ['c'],
            attributes: [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'pads', ints: [0, 0, 0, 0] }, { name: 'strides', ints: [1, 1] }],
          },
          { opType: 'Pad', name: 'y', inputs: ['c', 'p'], outputs: ['y'] },
        ],
        initializers: [
          { name: 'wq', dims: [1, 1, 2, 2], data: Uint8Array.of(1, 2, 3, 4) },
          { name: 'b', dims: [1], data: Float32Array.of(0.5) },
          { name: 'p', dims: [8], data: BigInt64Array.from([0n, 0n, 0n, 0n, 0n, 0n, 1n, 1n]) },
        ],
        inputs: [{ name: 'x', dims: [1, 1, 3, 3] }],
        outputs: [{ name: 'y', dims: [1, 1, 3, 3] }],
      },
    });
    const session = await ort.InferenceSession.create(bytes);
    const x = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);
    const { y } = await session.run({ x: new ort.Tensor('float32', x, [1, 1, 3, 3]) });
    await session.release();
    // conv[0,0] = 1*1 + 2*2 + 4*3 + 5*4 + 0.5 = 37.5; conv[0,1] = 2+6+15+24+0.5 = 47.5; then a zero row and column.
    expect(Array.from(y.data as Float32Array)).toEqual([37.5, 47.5, 0, 67.5, 77.5, 0, 0, 0, 0]);
    expect(y.dims).toEqual([1, 1, 3, 3]);
  });
});

describe('faceapi-weights', () => {
  it('dequantises every face-api weight as tfjs does and accounts for every byte of the .bin', () => {
    const w = readTfjsWeights(`${FACEAPI_DIR}/model`, 'face_recognition_model-weights_manifest.json');
    expect(w.size).toBe(117);
    expect(w.get('fc')?.shape).toEqual([256, 128]);
    const f = w.get('conv32_down/conv/filters');
    expect(f?.shape).toEqual([7, 7, 3, 32]);
    const q = f?.quantized;
    expect(q).toBeDefined();
    if (!f || !q) return;
    for (const i of [0, 1, 777, f.data.length - 1]) expect(f.data[i]).toBe(Math.fround(q.codes[i] * q.scale + q.min));
  });
});

describe('build-faceapi-resnet', () => {
  it('is reproducible: rebuilding from the face-api weights gives the committed bytes and the embedder digest', () => {
    const built = buildFaceapiResnet();
    expect(sha256(built)).toBe(sha256(readFileSync(DEFAULT_OUT)));
    expect(sha256(built)).toBe(FACEAPI_RESNET.sha256);
    expect(built.length).toBe(FACEAPI_RESNET.bytes);
  });
});

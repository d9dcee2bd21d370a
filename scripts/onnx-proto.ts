/**
 * A minimal, deterministic ONNX (protobuf) writer: just the messages a plain feed-forward graph needs — ModelProto,
 * GraphProto, NodeProto, AttributeProto (INT, INTS), TensorProto (FLOAT/UINT8/INT64 as raw_data) and ValueInfoProto with
 * fixed shapes. Field numbers are from onnx/onnx.proto (IR version 8). Fields are written in ascending field order and
 * nothing time- or host-dependent is written, so the same graph always encodes to the same bytes.
 */

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7 } as const;

export interface Tensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | Uint8Array | BigInt64Array;
}

export type Attribute = { readonly name: string } & ({ readonly i: number } | { readonly ints: readonly number[] });

export interface Node {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: readonly Attribute[];
}

export interface ValueInfo {
  readonly name: string;
  readonly dims: readonly number[];
}

export interface Model {
  readonly irVersion: number;
  readonly opset: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString: string;
  readonly graph: {
    readonly name: string;
    readonly nodes: readonly Node[];
    readonly initializers: readonly Tensor[];
    readonly inputs: readonly ValueInfo[];
    readonly outputs: readonly ValueInfo[];
  };
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
/** AttributeProto.AttributeType */
const ATTR_INT = 2;
const ATTR_INTS = 7;

function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    bytes.push(b);
  } while (v !== 0n);
  return Buffer.from(bytes);
}

const key = (field: number, wire: number): Buffer => varint((field << 3) | wire);
const intField = (field: number, value: number | bigint): Buffer => Buffer.concat([key(field, WIRE_VARINT), varint(value)]);
const lenField = (field: number, payload: Uint8Array): Buffer =>
  Buffer.concat([key(field, WIRE_LEN), varint(payload.length), payload]);
const strField = (field: number, s: string): Buffer => lenField(field, Buffer.from(s, 'utf8'));

/** Raw little-endian bytes of a typed array (TensorProto.raw_data is little-endian by spec). */
function littleEndian(data: Tensor['data']): Buffer {
  if (data instanceof Uint8Array) return Buffer.from(data);
  const out = Buffer.alloc(data.byteLength);
  if (data instanceof Float32Array) data.forEach((v, i) => out.writeFloatLE(v, i * 4));
  else data.forEach((v, i) => out.writeBigInt64LE(v, i * 8));
  return out;
}

function tensor(t: Tensor): Buffer {
  return Buffer.concat([
    ...t.dims.map((d) => intField(1, d)),
    intField(2, t.data instanceof Float32Array ? DataType.FLOAT : t.data instanceof Uint8Array ? DataType.UINT8 : DataType.INT64),
    strField(8, t.name),
    lenField(9, littleEndian(t.data)),
  ]);
}

function attribute(a: Attribute): Buffer {
  if ('i' in a) return Buffer.concat([strField(1, a.name), intField(3, a.i), intField(20, ATTR_INT)]);
  return Buffer.concat([strField(1, a.name), ...a.ints.map((v) => intField(8, v)), intField(20, ATTR_INTS)]);
}

function node(n: Node): Buffer {
  return Buffer.concat([
    ...n.inputs.map((s) => strField(1, s)),
    ...n.outputs.map((s) => strField(2, s)),
    strField(3, n.name),
    strField(4, n.opType),
    ...(n.attributes ?? []).map((a) => lenField(5, attribute(a))),
  ]);
}

function valueInfo(v: ValueInfo): Buffer {
  const shape = Buffer.concat(v.dims.map((d) => lenField(1, intField(1, d))));
  const tensorType = Buffer.concat([intField(1, DataType.FLOAT), lenField(2, shape)]);
  return Buffer.concat([strField(1, v.name), lenField(2, lenField(1, tensorType))]);
}

/** Serialise a model to ONNX protobuf bytes. */
export function encodeModel(m: Model): Buffer {
  const g = m.graph;
  const graph = Buffer.concat([
    ...g.nodes.map((n) => lenField(1, node(n))),
    strField(2, g.name),
    ...g.initializers.map((t) => lenField(5, tensor(t))),
    ...g.inputs.map((v) => lenField(11, valueInfo(v))),
    ...g.outputs.map((v) => lenField(12, valueInfo(v))),
  ]);
  const opset = Buffer.concat([strField(1, ''), intField(2, m.opset)]);
  return Buffer.concat([
    intField(1, m.irVersion),
    strField(2, m.producerName),
    strField(3, m.producerVersion),
    strField(6, m.docString),
    lenField(7, graph),
    lenField(8, opset),
  ]);
}

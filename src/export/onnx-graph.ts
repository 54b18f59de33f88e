import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

const { onnx } = onnxProto;

/** The operator set the exported graphs declare (ReduceMean's axes are still an attribute). */
export const OPSET = 17;
/** IR version 8: the one that goes with opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;

/** An attribute value: a number (an int for the names in INT_ATTRIBUTES), a list of ints, a string. */
export type AttributeValue = number | number[] | string;

/** One graph input or output: float32 with a shape whose `'batch'` entries are dynamic. */
export interface ValueInfo {
  name: string;
  shape: (number | 'batch')[];
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;

/** Integer-valued attributes of the operators used here; every other number is a float. */
const INT_ATTRIBUTES = new Set(['keepdims', 'group', 'axis']);

function attribute(name: string, value: AttributeValue): Onnx.IAttributeProto {
  if (typeof value === 'string') {
    return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  }
  if (Array.isArray(value)) return { name, type: A.INTS, ints: value };
  if (INT_ATTRIBUTES.has(name)) return { name, type: A.INT, i: value };
  return { name, type: A.FLOAT, f: value };
}

function littleEndianFloats(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

function littleEndianInt64s(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return bytes;
}

function valueInfo(v: ValueInfo): Onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: v.shape.map((d) => (d === 'batch' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/**
 * Builds an ONNX graph node by node with onnx-proto's generated messages: constants become
 * initializers, every node gets a unique output name, `encode` gives the model's bytes.
 */
export class OnnxGraph {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();

  private unique(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  /** A float32 constant of `dims` (row-major `values`); returns its name. */
  constant(name: string, values: Float32Array | number[], dims: number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    if (data.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new Error(`OnnxGraph.constant ${name}: ${data.length} values for dims [${dims}]`);
    }
    const unique = this.unique(name);
    this.initializers.push({
      name: unique,
      dims,
      dataType: FLOAT,
      rawData: littleEndianFloats(data),
    });
    return unique;
  }

  /** An int64 vector constant (shapes for Reshape); returns its name. */
  int64s(name: string, values: number[]): string {
    const unique = this.unique(name);
    this.initializers.push({
      name: unique,
      dims: [values.length],
      dataType: INT64,
      rawData: littleEndianInt64s(values),
    });
    return unique;
  }

  /**
   * Appends `op(inputs)` with `attributes`; returns the name of its (single) output: `name` if
   * unused (a graph output's public name), else `name_k`.
   */
  node(
    op: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    name = op,
  ): string {
    const output = this.unique(name);
    this.nodes.push({
      opType: op,
      name: output,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** The serialized ModelProto. */
  encode(options: {
    graphName: string;
    inputs: ValueInfo[];
    outputs: ValueInfo[];
    docString: string;
    metadata: Record<string, string>;
    producerVersion: string;
  }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'vbn',
      producerVersion: options.producerVersion,
      docString: options.docString,
      metadataProps: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: options.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: options.inputs.map(valueInfo),
        output: options.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/** Decodes model bytes (tests and tools read exported files back with it). */
export function decodeModel(bytes: Uint8Array): Onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

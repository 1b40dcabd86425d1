/**
 * The part of the ONNX protobuf schema (onnx.proto, IR version ≤ 11) that Headscope reads and the tests
 * write, as a protobufjs descriptor. Field numbers are the format's; messages and fields Headscope never
 * touches are left out (protobufjs skips unknown fields when decoding). The model is never re-encoded:
 * outputs are added by appending bytes (graph-rewrite.ts), so leaving fields out loses nothing.
 */
import protobuf from 'protobufjs/light.js';

const entry = { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } };

const DESCRIPTOR = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: entry,
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: { type: 'Tensor', id: 1 } },
          nested: { Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } } },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
            type: { type: 'int32', id: 20 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);
const ModelType = root.lookupType('onnx.ModelProto');
const GraphType = root.lookupType('onnx.GraphProto');

/** int64 fields decode to numbers or Long objects (when the `long` package is present). */
type Int64 = number | { toNumber(): number };

export function int64(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export interface OnnxDimension {
  dimValue?: Int64;
  dimParam?: string;
}
export interface OnnxValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: OnnxDimension[] } } };
}
export interface OnnxTensor {
  name: string;
  dims?: Int64[];
  dataType?: number;
  floatData?: number[];
  int64Data?: Int64[];
  rawData?: Uint8Array;
  externalData?: { key: string; value: string }[];
  dataLocation?: number;
}
export interface OnnxAttribute {
  name: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: OnnxGraph;
  graphs?: OnnxGraph[];
  floats?: number[];
  ints?: Int64[];
}
export interface OnnxNode {
  name?: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute?: OnnxAttribute[];
}
export interface OnnxGraph {
  name?: string;
  node: OnnxNode[];
  initializer?: OnnxTensor[];
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  valueInfo?: OnnxValueInfo[];
}
export interface OnnxModelProto {
  irVersion?: Int64;
  producerName?: string;
  producerVersion?: string;
  graph?: OnnxGraph;
  opsetImport?: { domain?: string; version?: Int64 }[];
}

/** ONNX TensorProto.DataType values Headscope names. */
export const ONNX_FLOAT = 1;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;
/** TensorProto.DataLocation.EXTERNAL. */
export const ONNX_EXTERNAL = 1;
/** AttributeProto.AttributeType values used by the tests' graph builder. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

/** Decodes a ModelProto; throws whatever protobufjs throws on bytes that are not one (the caller types it). */
export function decodeModel(bytes: Uint8Array): OnnxModelProto {
  return ModelType.decode(bytes) as unknown as OnnxModelProto;
}

export function encodeModel(model: OnnxModelProto): Uint8Array {
  return ModelType.encode(ModelType.fromObject(model as Record<string, unknown>)).finish();
}

/** A GraphProto holding only these outputs: appended to a model as field 7 it merges into the graph. */
export function encodeGraphOutputs(outputs: OnnxValueInfo[]): Uint8Array {
  return GraphType.encode(GraphType.fromObject({ output: outputs })).finish();
}

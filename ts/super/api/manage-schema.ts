// Schemas of the manage API routes (ts/super/api/manage-*.ts): parameters, errors and the state
// document (HttpState, ts/super/types.ts).
import { errorSchema } from '../../shared/http.js';

/** The parameters of one endpoint: `props` plus `Password`; anything else is refused. */
export const paramSchema = (props: Record<string, object>) =>
  ({ type: 'object', additionalProperties: false, required: [], properties: { Password: { type: 'string', maxLength: 1024 }, ...props } }) as const;

export const NODE_ID = { type: 'integer', minimum: 0, maximum: 65531 };
export const text = { type: 'string' } as const;
export const manageErrors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 429: errorSchema, 500: errorSchema, 503: errorSchema };

const table = { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'number' } } } as const;
const addrMap = { type: 'object', additionalProperties: { type: 'number' } } as const;
export const httpStateSchema = {
  type: 'object',
  required: ['PeerInfo', 'Infinity', 'Edges', 'Edges_Nh', 'NhTable', 'Dist', 'Dist_noAC', 'Status'],
  properties: {
    PeerInfo: {
      type: 'object',
      additionalProperties: { type: 'object', required: ['Name', 'LastSeen'], properties: { Name: text, LastSeen: text } },
    },
    Infinity: { type: 'number' },
    Edges: table,
    Edges_Nh: table,
    NhTable: table,
    Dist: table,
    Dist_noAC: table,
    Status: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          Alive: { type: 'boolean' },
          LastSeenAgo: { type: 'number' },
          ExternalV4: text,
          ExternalV6: text,
          LocalV4s: addrMap,
          LocalV6s: addrMap,
          Synced: { type: 'object', properties: { PeerInfo: { type: 'boolean' }, NhTable: { type: 'boolean' }, SuperParams: { type: 'boolean' } } },
        },
      },
    },
    // Our addition: clock offset and drift (ts/super/clockwatch.ts ClockView; docs/supernode.md).
    Clocks: {
      type: 'object',
      properties: {
        LimitPpm: { type: 'number' },
        Nodes: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            properties: { OffsetMs: { type: 'number' }, DriftPpm: { type: ['number', 'null'] }, Pairs: { type: 'integer' }, Flag: text },
          },
        },
        Pairs: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              A: { type: 'integer' },
              B: { type: 'integer' },
              OffsetMs: { type: 'number' },
              DriftPpm: { type: ['number', 'null'] },
              RttMs: { type: 'number' },
              Samples: { type: 'integer' },
              LastStep: { type: ['object', 'null'], properties: { Ms: { type: 'number' }, AgoS: { type: 'number' } } },
            },
          },
        },
      },
    },
  },
} as const;

/** peer/add: NodeID, Name, AdditionalCost and PubKey are required (checked by the service, upstream's messages). */
export const addPeerProps = {
  NodeID: NODE_ID,
  Name: { type: 'string', minLength: 1, maxLength: 32 },
  AdditionalCost: { type: 'number' },
  PubKey: text,
  SkipLocalIP: { type: 'boolean' },
  PSKey: text,
  NextHopTable: text,
};
export const delPeerProps = { NodeID: NODE_ID, PrivKey: text, NextHopTable: text };
export const updatePeerProps = { NodeID: NODE_ID, AdditionalCost: { type: 'number' }, SkipLocalIP: { type: 'boolean' } };
export const updateSuperProps = { PeerAliveTimeout: { type: 'number' }, DampingFilterRadius: { type: 'number' }, SendPingInterval: { type: 'number' }, HttpPostInterval: { type: 'number' } };

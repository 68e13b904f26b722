// sift: MongoDB queries compiled to a filter function.
import siftModule from 'sift';
import type { Peer } from './peer.js';
import { toMongoQuery } from './mongo-query.js';

// Under NodeNext the CommonJS module's export is the default import; its types say otherwise.
const sift = siftModule as unknown as (query: unknown) => (item: unknown) => boolean;

export const siftPeer: Peer = {
  name: 'sift',
  compile(condition) {
    return sift(toMongoQuery(condition));
  },
};

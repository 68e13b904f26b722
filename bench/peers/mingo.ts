// mingo: MongoDB queries through `Query.test`.
import { Query } from 'mingo';
import type { Peer } from './peer.js';
import { toMongoQuery } from './mongo-query.js';

export const mingoPeer: Peer = {
  name: 'mingo',
  compile(condition) {
    const query = new Query(toMongoQuery(condition), {});
    return (contact) => query.test(contact);
  },
};
